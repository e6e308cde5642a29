#pragma once
// `run --fault KIND:ARGS` (repeatable; an experiment VM's `faults`): faults injected from
// the host at their times. Checked before anything boots; each problem is one line and
// exit_fault.
//   vcpu_stall:VCPU@AT+SECONDS   park that vCPU alone from AT s after VM start, for SECONDS
#include <string>
#include <variant>
#include <vector>

#include "apps/cli/base/refusal.hpp"
#include "messages/fault.hpp"

namespace ktstr::cli {

inline constexpr double kMaxStallSeconds = 600;

/// Every --fault for a VM of `vcpus` vCPUs running at most `run_s` seconds: an unknown
/// kind, a vCPU out of range, a time past the run, a stall too long, and two stalls of
/// one vCPU that overlap are refused.
std::variant<std::vector<msg::fault_event>, Refusal> parse_faults(const std::vector<std::string>& texts, uint32_t vcpus,
                                                                  double run_s);

}  // namespace ktstr::cli
