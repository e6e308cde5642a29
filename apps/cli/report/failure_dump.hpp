#pragma once
// The failure dump: the snapshot a scheduler error asked for (taken while every vCPU was
// parked), with the kernel's exit info, every vCPU's registers with `rip` symbolized and
// each CPU's runqueue, as dump.json and as a readable BUG SUMMARY for the human report.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/cli/report/monitor_json.hpp"
#include "messages/freeze.hpp"
#include "messages/monitor.hpp"

namespace ktstr::cli {

/// The first snapshot taken for a scheduler error (trigger "scheduler error ..."), or null.
const msg::snapshot* failure_snapshot(const std::vector<msg::snapshot>& snapshots);

/// dump.json: trigger, the exit event and info, vCPUs (registers, rip symbolized), guest state.
nlohmann::json failure_dump_json(const msg::snapshot& snapshot, const msg::monitor_report* monitor,
                                 const BacktraceNamer& name);

/// The BUG SUMMARY lines (no trailing newlines).
std::vector<std::string> bug_summary(const msg::snapshot& snapshot, const msg::monitor_report* monitor,
                                     const BacktraceNamer& name);

}  // namespace ktstr::cli
