#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian 12 machine: build dependencies, QEMU for the
# nested software-KVM host (bookworm's 7.2 installed, which also brings the libraries,
# and QEMU 10 from bookworm-backports unpacked into the cache, which the nested host
# prefers), headless Chromium for the HTML report's browser test, clang with its runtimes
# (libFuzzer) for the fuzz targets, and the default guest
# kernel (Debian's linux-image-6.1.0-NN, downloaded and unpacked into the cache, never
# installed).
#   --kernel-build  also what `ktstr-actors kernel build` needs: Debian's kernel source
#                   (linux-source-6.12 -> /usr/src/linux-source-6.12.tar.xz), the kernel
#                   build tools (pahole from dwarves for BTF) and clang-19 for the
#                   sched_ext schedulers (tools/sched_ext).
set -euo pipefail

kernel_build=0
for arg in "$@"; do
  case "$arg" in
    --kernel-build) kernel_build=1 ;;
    *) echo "setup: unknown option $arg (known: --kernel-build)" >&2; exit 64 ;;
  esac
done

packages=(
  build-essential cmake pkg-config
  libcaf-dev libbpf-dev libelf-dev zlib1g-dev libssl-dev
  libspdlog-dev libfmt-dev catch2 libcli11-dev nlohmann-json3-dev
  libtomlplusplus-dev libarchive-dev libbenchmark-dev
  qemu-system-x86 cpio xz-utils zstd kmod
  stress-ng rt-tests
  chromium
  clang libclang-rt-dev
)
if ((kernel_build)); then
  packages+=(linux-source-6.12 dwarves bc flex bison libelf-dev libssl-dev clang-19 llvm-19)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The default guest kernel (6.1) and the 6.12 image the tests also boot.
"$(dirname "$0")/fetch-kernel.sh" 6.1 >/dev/null
"$(dirname "$0")/fetch-kernel.sh" 6.12 >/dev/null

# QEMU 10 for the nested host; without backports, one line says the nested host keeps 7.2.
"$(dirname "$0")/fetch-qemu.sh" >/dev/null || true
