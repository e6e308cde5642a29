#!/usr/bin/env bash
# Runs the libFuzzer targets (tests/fuzz) from their seed corpora.
#   scripts/fuzz.sh [TARGET|all] [SECONDS]      (default: all, 30 s each)
# Builds them first in $KTSTR_FUZZ_BUILD (default build-fuzz) with clang, ASan and UBSan.
# New inputs found go to the build folder (the seeds in tests/fuzz/corpus stay as they are);
# a crash leaves its input as build-fuzz/crashes/<target>-crash-<sha1> and fails the run:
# fix it and add the input to tests/fuzz/corpus/<target>/ as a regression seed.
# Prints, per target, the executions and their rate. KTSTR_FUZZ_SEED: libFuzzer's -seed
# (default 0: a new one each run; the test command uses 1 so that CI explores the same way
# each time and a red run is the code's, not the dice's).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${1:-all}"
seconds="${2:-30}"
build="${KTSTR_FUZZ_BUILD:-$repo/build-fuzz}"

if ! command -v clang++ >/dev/null; then
  echo "fuzz: clang++ is missing (scripts/setup.sh installs clang and libclang-rt-dev)" >&2
  exit 1
fi
CC=clang CXX=clang++ cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKTSTR_FUZZ=ON >/dev/null
if [ "$target" = all ]; then
  cmake --build "$build" -j"$(nproc)" --target fuzz_targets
  targets="$(cd "$repo/tests/fuzz" && ls fuzz_*.cpp | sed 's/\.cpp$//')"
else
  cmake --build "$build" -j"$(nproc)" --target "$target"
  targets="$target"
fi

mkdir -p "$build/crashes"
failed=0
summary=""
for t in $targets; do
  work="$build/corpus/$t"
  mkdir -p "$work"
  log="$build/$t.log"
  echo "== $t: $seconds s"
  set +e
  # -rss_limit_mb: a parser that allocates without bound is a finding too.
  "$build/tests/fuzz/$t" "$work" "$repo/tests/fuzz/corpus/$t" -max_total_time="$seconds" -print_final_stats=1 -seed="${KTSTR_FUZZ_SEED:-0}" \
    -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$build/crashes/$t-" >"$log" 2>&1
  rc=$?
  set -e
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  if [ "$rc" -ne 0 ]; then
    failed=1
    echo "fuzz: $t FAILED (exit $rc); the input is in $build/crashes/, the log in $log" >&2
    grep -E "ERROR|SUMMARY|Test unit written" "$log" | head -10 >&2 || true
  fi
  summary+="$(printf '%-20s %10s runs %8s/s %s' "$t" "${runs:-?}" "${rate:-?}" "$([ "$rc" -eq 0 ] && echo ok || echo CRASH)")"$'\n'
done
echo "== fuzzing: $seconds s per target"
printf '%s' "$summary"
exit "$failed"
