#pragma once
// Kernel command-line switches that make the agent misbehave on purpose, so the host's
// handling of panics and of long-running guests can be tested against a real kernel.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ktstr::agent {

struct TestHooks {
  bool panic = false;        ///< ktstr.test_panic=1: crash the kernel after boot_done
  uint32_t hold_s = 0;       ///< ktstr.hold_s=N: stay up N seconds with heartbeats
  bool hang = false;         ///< ktstr.test_hang=1: go silent forever, ignore the host's stop
  /// ktstr.test_kill_scheduler_ms=N: SIGKILL the scheduler under test N ms into the
  /// scenario (fault injection: a scheduler that dies mid-run). 0: off.
  uint32_t kill_scheduler_ms = 0;
  std::vector<std::string> errors;  ///< malformed hook values, reported as agent_error
};

/// Reads the hooks from the text of /proc/cmdline; unknown words are ignored.
TestHooks parse_test_hooks(std::string_view cmdline);

/// Enables sysrq and writes 'c' to /proc/sysrq-trigger. Returns only if the kernel
/// did not crash, with the reason.
std::string crash_kernel();

}  // namespace ktstr::agent
