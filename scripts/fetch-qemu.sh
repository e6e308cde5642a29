#!/usr/bin/env bash
# Download QEMU 10 (qemu-system-x86, its data files and the SeaBIOS it asks for) from
# Debian's bookworm-backports and unpack it into the ktstr-actors cache, never installed:
# the nested software-KVM host is far more reliable on it than on bookworm's QEMU 7.2
# (shared/docs/PLATFORM.md §1). The system's apt sources and packages are left alone:
# backports' index is read into a private, temporary apt state, so this needs no root.
# Usage: fetch-qemu.sh   (prints the unpacked binary's path)
# Result: <cache>/qemu/<version>/usr/{bin,share/qemu,share/seabios} and the link
# <cache>/qemu/current, which ktstr-actors prefers to qemu-system-x86_64 in PATH.
# Already there and runnable: nothing is downloaded. When backports cannot be reached or
# its QEMU does not run here, one line says so on stderr and the exit status is 1.
set -euo pipefail
cache="${KTSTR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ktstr-actors}"
current="$cache/qemu/current/usr/bin/qemu-system-x86_64"

if "$current" --version >/dev/null 2>&1; then
  echo "$current"
  exit 0
fi

fallback() {
  local system
  system=$(qemu-system-x86_64 --version 2>/dev/null | head -n 1 || true)
  echo "fetch-qemu: QEMU 10 from bookworm-backports unavailable ($1); the nested host uses qemu-system-x86_64 from PATH: ${system:-none there}" >&2
  exit 1
}

tmp=$(mktemp -d); chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/debs"
# As root, apt downloads as the unprivileged _apt user: it must be able to write there.
if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then chown _apt "$tmp/debs"; fi
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-backports main" \
  >"$tmp/sources.list"
apt_private=(-o "Dir::Etc::SourceList=$tmp/sources.list" -o Dir::Etc::SourceParts=/nonexistent
             -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp/cache"
             -o Acquire::http::Timeout=30 -o Acquire::Retries=1)

# apt-get update only warns about a source it cannot fetch: --error-on=any makes that fail.
apt-get "${apt_private[@]}" --error-on=any update >"$tmp/apt.log" 2>&1 ||
  fallback "apt-get update: $(grep -m1 -E '^(E|W):' "$tmp/apt.log" || tail -n 1 "$tmp/apt.log")"
(cd "$tmp/debs" && apt-get "${apt_private[@]}" download \
   qemu-system-x86/bookworm-backports qemu-system-data/bookworm-backports seabios/bookworm-backports) \
  >>"$tmp/apt.log" 2>&1 ||
  fallback "apt-get download: $(grep -m1 -E '^(E|W):' "$tmp/apt.log" || tail -n 1 "$tmp/apt.log")"

deb_version=$(dpkg-deb -f "$tmp"/debs/qemu-system-x86_*.deb Version)
dest="$cache/qemu/${deb_version#*:}"  # the epoch's ':' is of no use in a path
rm -rf "$dest.partial"
mkdir -p "$dest.partial"
for deb in "$tmp"/debs/*.deb; do dpkg-deb -x "$deb" "$dest.partial"; done
binary="$dest.partial/usr/bin/qemu-system-x86_64"
# Its libraries come from bookworm (installed with the system's qemu-system-x86).
if missing=$(ldd "$binary" | grep 'not found'); then
  rm -rf "$dest.partial"
  fallback "libraries missing: $(echo "$missing" | awk '{print $1}' | tr '\n' ' ')"
fi
"$binary" --version >/dev/null 2>&1 || { rm -rf "$dest.partial"; fallback "$binary --version failed"; }
rm -rf "$dest"
mv "$dest.partial" "$dest"
ln -sfn "${deb_version#*:}" "$cache/qemu/current"
echo "fetch-qemu: unpacked $("$current" --version | head -n 1) into $dest" >&2
echo "$current"
