#pragma once
// The monitor's timeline as JSON (result.json "monitor", a snapshot's "guest") and as a
// compact per-CPU summary for the human report. A field the guest could not give is null;
// the fields this kernel lacks are listed once, with the reason, under "unavailable_fields".
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "messages/monitor.hpp"

namespace ktstr::cli {

/// Names a runtime kernel address ("scx_watchdog_workfn+0x1c"); empty when none is known.
using BacktraceNamer = std::function<std::string(uint64_t)>;
/// `name` symbolizes the exit backtraces and the writers' rips a watchpoint hit gave.
nlohmann::json monitor_json(const msg::monitor_report& report, const BacktraceNamer& name = {});
nlohmann::json guest_state_json(const msg::guest_state& state);
nlohmann::json exit_info_json(const guest_kernel::ScxExitInfo& info, const BacktraceNamer& name = {});
/// A few lines: what was sampled, each CPU's load and what ran on it, the sched_ext states seen.
std::vector<std::string> monitor_summary(const msg::monitor_report& report, const BacktraceNamer& name = {});

}  // namespace ktstr::cli
