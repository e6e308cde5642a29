#pragma once
// The monitor's timeline as JSON (result.json "monitor", a snapshot's "guest") and as a
// compact per-CPU summary for the human report. A field the guest could not give is null;
// the fields this kernel lacks are listed once, with the reason, under "unavailable_fields".
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "messages/monitor.hpp"

namespace ktstr::cli {

nlohmann::json monitor_json(const msg::monitor_report& report);
nlohmann::json guest_state_json(const msg::guest_state& state);
/// "sched_ext enable state" names: ENABLING, ENABLED, DISABLING, DISABLED; else the number.
std::string enable_state_name(uint64_t value);
/// SCX_EXIT_* names (NONE, DONE, UNREG, ..., ERROR_STALL); else the number.
std::string exit_kind_name(uint64_t value);
/// A few lines: what was sampled, each CPU's load and what ran on it, the sched_ext states seen.
std::vector<std::string> monitor_summary(const msg::monitor_report& report);

}  // namespace ktstr::cli
