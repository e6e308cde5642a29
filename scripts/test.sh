#!/usr/bin/env bash
# The project's test command: set-up, build, unit tests on this machine, then the tests
# that need KVM (ctest label "kvm") - directly when /dev/kvm is usable, otherwise once
# inside the nested software-KVM host (shared/docs/PLATFORM.md §1), which takes a few
# seconds to boot and runs everything under emulation.
#   KTSTR_BUILD         build directory (default: build, relative to the repository)
#   KTSTR_BUILD_TYPE    CMake build type (default: RelWithDebInfo)
#   KTSTR_KVM_TIMEOUT   time bound of the nested run in seconds (default: 2400; the
#                       KVM tests take about 5 minutes there, so this only ends a wedged host)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

"$repo/scripts/setup.sh"

build="${KTSTR_BUILD:-build}"
mkdir -p "$build"
build="$(cd "$build" && pwd)"  # absolute: it is shared into the nested host by path

cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE="${KTSTR_BUILD_TYPE:-RelWithDebInfo}"
cmake --build "$build" -j"$(nproc)"

echo "== unit tests"
ctest --test-dir "$build" -L unit --output-on-failure

echo "== KVM tests"
kvm_tests="$(ctest --test-dir "$build" -L kvm -N | sed -n 's/^Total Tests: *\([0-9]*\).*/\1/p')"
if [ "${kvm_tests:-0}" -eq 0 ]; then
  echo "no KVM tests (ctest label 'kvm') are defined yet: nothing to run"
  exit 0
fi

# -c first: opening a missing /dev/kvm with <> would create a regular file there.
if [ -c /dev/kvm ] && ( exec 3<>/dev/kvm ) 2>/dev/null; then
  echo "/dev/kvm is usable: running $kvm_tests KVM tests directly"
  ctest --test-dir "$build" -L kvm --output-on-failure
else
  cli="$build/apps/cli/ktstr-actors"
  # A CLI without the subcommand would "succeed" without running anything.
  if ! "$cli" --help 2>&1 | grep -qw host; then
    echo "error: no /dev/kvm here and $cli has no 'host exec' command to reach the nested host" >&2
    exit 1
  fi
  echo "no usable /dev/kvm: running $kvm_tests KVM tests inside the nested software-KVM host"
  # As many outer CPUs as the largest test guest has vCPUs (4): guest code that spins
  # waiting for another vCPU deadlocks the emulated host when vCPUs outnumber its CPUs.
  "$cli" host exec --cpus "${KTSTR_NESTED_CPUS:-4}" --timeout "${KTSTR_KVM_TIMEOUT:-2400}" --writable "$build" -- \
    ctest --test-dir "$build" -L kvm --output-on-failure
fi
