#!/usr/bin/env bash
# Download a Debian kernel image package and unpack it into the ktstr-actors cache.
# Usage: fetch-kernel.sh [6.1|6.12]   (prints the unpacked kernel path)
# The newest linux-image-6.1.0-NN-amd64 (or linux-image-6.12.NN+deb12-amd64-unsigned)
# known to apt is used; the series' directory also gets a "default" link for 6.1.
set -euo pipefail
series="${1:-6.1}"
cache="${KTSTR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ktstr-actors}"
mkdir -p "$cache/kernels"

case "$series" in
  6.1)  pattern='^linux-image-6\.1\.0-[0-9]+-amd64$' ;;
  6.12) pattern='^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' ;;
  *) echo "fetch-kernel: unknown series '$series' (use 6.1 or 6.12)" >&2; exit 2 ;;
esac

pkg=$(apt-cache search --names-only "$pattern" | awk '{print $1}' | sort -V | tail -n 1)
if [ -z "$pkg" ]; then
  apt-get update -qq || true
  pkg=$(apt-cache search --names-only "$pattern" | awk '{print $1}' | sort -V | tail -n 1)
fi
[ -n "$pkg" ] || { echo "fetch-kernel: no package matches $pattern" >&2; exit 1; }

dest="$cache/kernels/$pkg"
if ! ls "$dest"/boot/vmlinuz-* >/dev/null 2>&1; then
  tmp=$(mktemp -d); chmod 755 "$tmp"  # apt downloads as _apt
  trap 'rm -rf "$tmp"' EXIT
  echo "fetch-kernel: downloading $pkg" >&2
  (cd "$tmp" && apt-get download -qq "$pkg" >/dev/null)
  rm -rf "$dest.partial"
  dpkg-deb -x "$tmp"/*.deb "$dest.partial"
  mv "$dest.partial" "$dest"
fi
ln -sfn "$pkg" "$cache/kernels/linux-$series"
[ "$series" != 6.1 ] || ln -sfn "$pkg" "$cache/kernels/default"
ls "$dest"/boot/vmlinuz-*
