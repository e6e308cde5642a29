#pragma once
// Whether a run samples per-vCPU perf counters, and how often, when the user did not say.
#include <chrono>
#include <optional>
#include <string>

#include "kvm/host_quirks.hpp"

namespace ktstr::cli {

inline constexpr std::chrono::milliseconds kDefaultPerfPeriod{1000};

struct PerfChoice {
  std::chrono::milliseconds period{0};  ///< 0: no sampler
  std::string off_reason;               ///< why not, for the log and the report (empty when on)
};

/// --perf-period MS as given (0: off) wins; unset, the sampler runs every second,
/// except on a host where reading a running vCPU thread's counters can hang it.
PerfChoice choose_perf_period(std::optional<unsigned> requested_ms, const kvm::HostQuirks& quirks);

}  // namespace ktstr::cli
