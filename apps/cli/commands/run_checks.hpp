#pragma once
// What `run` refuses up front, before any VM or nested host starts: option values that
// cannot work together, each with one line and its exit code (exit_codes.hpp).
#include <cstdint>
#include <optional>
#include <string>

#include "apps/cli/base/refusal.hpp"
#include "apps/cli/base/run_options.hpp"

namespace ktstr::cli {

/// The most snapshots a run takes (each is a freeze of every vCPU).
inline constexpr unsigned kMaxSnapshots = 1000;
/// The longest run deadline: a day.
inline constexpr unsigned kMaxTimeoutS = 24 * 3600;

/// `extra_s`: what the scenario adds to --timeout (its duration, the scheduler's enable
/// time); `host_memory_mib`: this host's RAM (nullopt: unknown, not checked).
std::optional<Refusal> check_run_options(const RunOptions& options, unsigned extra_s,
                                         std::optional<uint64_t> host_memory_mib);

/// MemTotal of /proc/meminfo in MiB; nullopt when it cannot be read.
std::optional<uint64_t> host_memory_mib();

}  // namespace ktstr::cli
