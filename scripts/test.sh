#!/usr/bin/env bash
# The project's test command: set-up, build, unit tests on this machine, then the tests
# that need KVM (ctest label "kvm") - directly when `ktstr-actors host probe` finds /dev/kvm usable, otherwise once
# inside the nested software-KVM host (shared/docs/PLATFORM.md §1), which takes a few
# seconds to boot and runs everything under emulation.
#   KTSTR_BUILD         build directory (default: build, relative to the repository)
#   KTSTR_BUILD_TYPE    CMake build type (default: RelWithDebInfo)
#   KTSTR_KVM_TIMEOUT   time bound of each nested run in seconds (default: 1500; the
#                       KVM tests take about 12 minutes there, so this only ends a stuck host)
# Between the unit tests and the KVM tests, the hardening passes (each says how long it took):
#   - every fuzz target for KTSTR_FUZZ_SECONDS (default 20; 0 skips) from its seed corpus,
#   - with KTSTR_SANITIZE_PASS=1, the unit tests again in an ASan + UBSan build (build-address).
#     Not by default yet: that build takes about 30 minutes on 2 cores, which would double
#     CI's time (docs/hardening.md).
# `scripts/test.sh --sanitize [address|thread]` runs only a sanitizer pass: address = the unit
# tests under ASan + UBSan; thread = the actor, kick and worker tests under TSan.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

phase_began=0
phase() { phase_began=$SECONDS; echo "== $1"; }
phase_took() { echo "== $1 took $((SECONDS - phase_began)) s"; }

# One sanitizer pass in its own build folder.
sanitizer_pass() {
  local kind="$1" sbuild="${KTSTR_SANITIZE_BUILD:-$repo/build-$1}"
  # -O1 with line tables only: a quicker build than RelWithDebInfo, reports still name file:line.
  cmake -S "$repo" -B "$sbuild" -DCMAKE_BUILD_TYPE= "-DCMAKE_CXX_FLAGS=-O1 -g1" -DKTSTR_SANITIZE="$kind" >/dev/null
  # What the unit tests run: their binaries and the CLI they start.
  cmake --build "$sbuild" -j"$(nproc)" --target unit_tests agent_unit_tests guest_kernel_tests ktstr-actors
  # Any report fails the test that caused it. detect_container_overflow=0: CAF (Debian's
  # libcaf, built without ASan) fills std::vectors ours then read, which ASan's container
  # annotations would report as overflows that are not there.
  export ASAN_OPTIONS="detect_leaks=1:detect_container_overflow=0:abort_on_error=1:print_summary=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  # TSan: CAF is not instrumented, so its own locking is invisible to TSan; races reported
  # inside it (called_from_lib) are not ours to see.
  export TSAN_OPTIONS="halt_on_error=1 suppressions=$repo/tests/tsan.supp"
  if [ "$kind" = address ]; then
    ctest --test-dir "$sbuild" -L unit -E "browser" --output-on-failure -j"$(nproc)"
  else
    "$sbuild/tests/unit_tests" -# "[#kick_test],[#thread_test],[#freeze_coordinator_test],[#watchdog_test],\
[#perf_sampler_test],[#kick_loss_test],[#vm_end_test],[#console_test],[#monitor_test],[#interfaces_test],\
[#vcpu_watch_test],[#vcpu_capture_test],[#runtime_config_test],[#worker_actor_test],[#experiment_run_test]"
  fi
}

if [ "${1:-}" = "--sanitize" ]; then
  kind="${2:-address}"
  case "$kind" in address|thread) ;; *) echo "test.sh: --sanitize address|thread, not $kind" >&2; exit 64 ;; esac
  "$repo/scripts/setup.sh"
  phase "unit tests under the $kind sanitizer"
  sanitizer_pass "$kind"
  phase_took "the $kind sanitizer pass"
  exit 0
fi

"$repo/scripts/setup.sh"

build="${KTSTR_BUILD:-build}"
mkdir -p "$build"
build="$(cd "$build" && pwd)"  # absolute: it is shared into the nested host by path

cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE="${KTSTR_BUILD_TYPE:-RelWithDebInfo}"
cmake --build "$build" -j"$(nproc)"

phase "unit tests"
ctest --test-dir "$build" -L unit --output-on-failure
phase_took "unit tests"

if [ "${KTSTR_SANITIZE_PASS:-0}" != 0 ]; then
  phase "unit tests under ASan + UBSan"
  sanitizer_pass address
  phase_took "the ASan + UBSan pass (build and tests)"
fi
if [ "${KTSTR_FUZZ_SECONDS:-20}" != 0 ]; then
  phase "fuzz targets, ${KTSTR_FUZZ_SECONDS:-20} s each"
  KTSTR_FUZZ_SEED="${KTSTR_FUZZ_SEED:-1}" "$repo/scripts/fuzz.sh" all "${KTSTR_FUZZ_SECONDS:-20}"
  phase_took "fuzzing (build and runs)"
fi

echo "== KVM tests"
kvm_tests="$(ctest --test-dir "$build" -L kvm -N | sed -n 's/^Total Tests: *\([0-9]*\).*/\1/p')"
if [ "${kvm_tests:-0}" -eq 0 ]; then
  echo "no KVM tests (ctest label 'kvm') are defined yet: nothing to run"
  exit 0
fi

# Where the KVM tests run is the same decision `run --host=auto` makes: `host probe`
# runs a tiny guest on /dev/kvm and times it (exit 0: usable; 70 absent, 83 emulated,
# e.g. kvm_pvm, 84 broken). A /dev/kvm that merely opens is not enough.
cli="$build/apps/cli/ktstr-actors"
set +e
probe="$("$cli" host probe 2>&1)"
probe_rc=$?
set -e
echo "host probe (exit $probe_rc):"
sed 's/^/  /' <<<"$probe"
if [ "$probe_rc" -eq 0 ]; then
  echo "/dev/kvm is usable: running $kvm_tests KVM tests directly"
  ctest --test-dir "$build" -L kvm --output-on-failure
else
  # A CLI without the subcommand would "succeed" without running anything.
  if ! "$cli" --help 2>&1 | grep -qw host; then
    echo "error: no usable /dev/kvm here and $cli has no 'host exec' command to reach the nested host" >&2
    exit 1
  fi
  echo "no usable /dev/kvm: running $kvm_tests KVM tests inside the nested software-KVM host"
  # As many outer CPUs as the largest test guest has vCPUs (4): guest code that spins
  # waiting for another vCPU deadlocks the emulated host when vCPUs outnumber its CPUs.
  #
  # The emulated host itself (QEMU TCG with nested SVM) can crash or wedge under a
  # guest; `host exec` then exits 79 at once, naming the outer kernel's line. That is
  # the test machine failing, not a test: a fresh nested host is booted for the tests
  # that have not passed yet (at most 8 hosts, and none started after
  # KTSTR_KVM_BUDGET seconds of KVM tests, default 2400).
  #
  # Each test may run twice (ctest --repeat until-pass:2): under emulation a guest now
  # and then dies in ways real KVM does not show (docs/nested-host.md: known limits). A test that
  # fails twice fails the suite; one that passed only on its second run is listed as
  # FLAKY at the end, with its first failure's output above.
  all_tests="$(ctest --test-dir "$build" -N -L kvm | sed -n 's/^ *Test *#\([0-9]*\):.*/\1/p')"
  log="$(mktemp)"
  trap 'rm -f "$log"' EXIT
  # Results of test N in the log so far: "pass", "fail" (two failed runs) or "" (not done).
  result_of() {
    local lines
    lines="$(grep -E "Test +#$1: " "$log" || true)"
    if grep -qE ' Passed |\*\*\*Skipped ' <<<"$lines"; then echo pass
    elif [ "$(grep -c '\*\*\*' <<<"$lines")" -ge 2 ]; then echo fail
    fi
  }
  flaky_summary() {
    for t in $all_tests; do
      local lines
      lines="$(grep -E "Test +#$t: " "$log" || true)"
      if grep -q ' Passed ' <<<"$lines" && grep -q '\*\*\*' <<<"$lines"; then
        echo "FLAKY: $(grep ' Passed ' <<<"$lines" | head -1 | sed 's/^.*Test *#/#/; s/ \.\.\..*//') failed once, passed on its second run"
      fi
    done
  }
  selection=(-L kvm)
  max_hosts=8
  kvm_start=$SECONDS
  for attempt in $(seq "$max_hosts"); do
    set +e
    "$cli" host exec --cpus "${KTSTR_NESTED_CPUS:-4}" --timeout "${KTSTR_KVM_TIMEOUT:-1500}" --writable "$build" \
      --env "KTSTR_TEST_SCRATCH=$build/test-scratch" -- \
      ctest --test-dir "$build" --output-on-failure --repeat until-pass:2 "${selection[@]}" 2>&1 | tee -a "$log"
    rc=${PIPESTATUS[0]}
    set -e
    flaky_summary
    if [ "$rc" -ne 79 ]; then exit "$rc"; fi
    remaining=()
    for t in $all_tests; do
      case "$(result_of "$t")" in
        pass) ;;
        fail) echo "the nested host failed, and test #$t had failed twice before it: not retrying" >&2; exit 1 ;;
        *) remaining+=("$t") ;;
      esac
    done
    if [ "${#remaining[@]}" -eq 0 ]; then exit 0; fi
    if [ "$attempt" -eq "$max_hosts" ]; then break; fi
    if [ $((SECONDS - kvm_start)) -ge "${KTSTR_KVM_BUDGET:-2400}" ]; then
      echo "the KVM tests' time budget (${KTSTR_KVM_BUDGET:-2400} s) is spent: no further nested host" >&2
      break
    fi
    echo "== the nested host itself failed (exit 79, above): booting a fresh one for the ${#remaining[@]} test(s) not yet passed (host $((attempt + 1)) of $max_hosts)"
    selection=(-I "0,0,0,$(IFS=,; echo "${remaining[*]}")")
  done
  echo "the nested host failed $attempt times; ${#remaining[@]} KVM test(s) never completed" >&2
  exit 79
fi
