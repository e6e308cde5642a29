#!/usr/bin/env bash
# The project's main job on a fresh Debian 12 machine: set-up, build, then
# `ktstr-actors run` on the default kernel (cached Debian 6.1) and topology (1,1,2,1).
# Extra arguments go to `ktstr-actors run`, e.g. scripts/run.sh --topology 2,2,2,1
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
"$repo/scripts/setup.sh"
build="${KTSTR_BUILD:-build}"
cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE="${KTSTR_BUILD_TYPE:-RelWithDebInfo}" >/dev/null
cmake --build "$build" -j"$(nproc)" --target ktstr-actors
exec "$build/apps/cli/ktstr-actors" run "$@"
