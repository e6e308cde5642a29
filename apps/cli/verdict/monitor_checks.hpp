#pragma once
// Checks over what the host read from guest memory (the monitor's timeline), each naming
// CPU, task and time: a runnable sched_ext task about to trip the watchdog ("predicted
// stall"), an rq clock that stood still while its vCPU ran guest code, and sustained
// imbalance (>= 2 runnable tasks on one CPU while another sat idle; only when asked for).
// No monitor, or one that could not read this kernel: a skip finding saying why.
#include <optional>
#include <vector>

#include "apps/cli/scenario/assertion_thresholds.hpp"
#include "apps/cli/verdict/assertions.hpp"
#include "messages/monitor.hpp"

namespace ktstr::cli {

std::vector<Finding> check_predicted_stall(const std::optional<msg::monitor_report>& monitor,
                                           const AssertionThresholds& thresholds);
std::vector<Finding> check_rq_clock(const std::optional<msg::monitor_report>& monitor,
                                    const AssertionThresholds& thresholds);
std::vector<Finding> check_imbalance(const std::optional<msg::monitor_report>& monitor,
                                     const AssertionThresholds& thresholds);

/// A scheduler error the monitor saw in guest memory (an exit kind >= ERROR), as a failing
/// scheduler finding with the kernel's own reason and message: "scheduler error
/// ERROR_STALL: runnable task stall (init[1] failed to run for 7.552s) at 12.6 s". None
/// when no error was seen (the scheduler check judges the rest).
std::vector<Finding> check_scheduler_exit(const std::optional<msg::monitor_report>& monitor);
/// The error exit event with the most to say (exit info read, else the first error), or null.
const msg::scx_exit_event* scheduler_error(const msg::monitor_report& report);

/// The monitor's self-check against the guest agent: the release it read from guest
/// memory must be the one the agent reports from inside (uname). On a mismatch the monitor
/// is made unavailable with both named, its samples and events dropped (never judged).
/// Returns whether it stood.
bool confirm_release(msg::monitor_report& report, const std::string& agent_release);

/// The guest's HZ as seen from jiffies against host time across the samples, snapped to
/// 100, 250, 300 or 1000; nullopt with fewer than two readings a second apart.
std::optional<unsigned> estimate_hz(const msg::monitor_report& report);

}  // namespace ktstr::cli
