#pragma once
// The names both sides of the wire agree on besides the plan and the events: where the
// host puts things in the guest's initramfs, and the one command the host sends the
// agent on COM2.
#include <cstddef>
#include <string>
#include <string_view>

namespace ktstr::protocol {

/// The scenario plan in the guest (plan.hpp's format).
inline constexpr std::string_view kGuestPlanPath = "/ktstr/plan.json";
/// The directory the scheduler under test (and its libraries' loader paths) lands in.
inline constexpr std::string_view kGuestSchedulerDir = "/ktstr/sched";
/// Payload i's program is kGuestPayloadDir/<i>/<its file name>, its libraries beside the
/// scheduler's where the guest's loader looks for them.
inline constexpr std::string_view kGuestPayloadDir = "/ktstr/payload";
/// Where payload `index`'s program lands: its own directory, the program's file name kept
/// (tools that look at argv[0] see their own name).
inline std::string guest_payload_path(std::size_t index, std::string_view program) {
  const auto slash = program.rfind('/');
  const std::string_view file = slash == std::string_view::npos ? program : program.substr(slash + 1);
  return std::string(kGuestPayloadDir) + "/" + std::to_string(index) + "/" + std::string(file);
}
/// Host -> agent, one line: end the run now (the agent stops its workers and powers off).
inline constexpr std::string_view kStopCommand = R"({"cmd":"stop"})";

// Kernel command-line words the agent reads (`run --append`), for tests of the harness:
inline constexpr std::string_view kHookHoldSeconds = "ktstr.hold_s";           ///< =N: stay up N s, heartbeating
inline constexpr std::string_view kHookPanic = "ktstr.test_panic";             ///< =1: crash the kernel after boot_done
inline constexpr std::string_view kHookHang = "ktstr.test_hang";               ///< =1: go silent, ignore the stop
inline constexpr std::string_view kHookKillSchedulerMs = "ktstr.test_kill_scheduler_ms";  ///< =N: SIGKILL the scheduler N ms in

}  // namespace ktstr::protocol
