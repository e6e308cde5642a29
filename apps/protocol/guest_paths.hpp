#pragma once
// The names both sides of the wire agree on besides the plan and the events: where the
// host puts things in the guest's initramfs, and the one command the host sends the
// agent on COM2.
#include <string_view>

namespace ktstr::protocol {

/// The scenario plan in the guest (plan.hpp's format).
inline constexpr std::string_view kGuestPlanPath = "/ktstr/plan.json";
/// The directory the scheduler under test (and its libraries' loader paths) lands in.
inline constexpr std::string_view kGuestSchedulerDir = "/ktstr/sched";
/// Host -> agent, one line: end the run now (the agent stops its workers and powers off).
inline constexpr std::string_view kStopCommand = R"({"cmd":"stop"})";

}  // namespace ktstr::protocol
