#pragma once
// What `ktstr-actors run` was asked to do: the options of one run, as parsed by the
// command line. Shared by the run flow, the nested re-run and the reports.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ktstr::cli {

enum class HostMode { automatic, kvm, nested };

struct RunOptions {
  std::string kernel;                   ///< path or cached kernel name; empty = default
  std::string topology = "1,1,2,1";
  uint64_t memory_mib = 512;
  unsigned timeout_s = 120;
  std::optional<std::filesystem::path> json;
  std::optional<std::filesystem::path> out_dir;  ///< logs, initramfs, result.json
  HostMode host = HostMode::automatic;
  bool force_kvm = false;               ///< --host=kvm even when the probe says /dev/kvm emulates guests
  std::string append;                   ///< extra kernel command-line arguments
  std::vector<double> freeze_at_s;      ///< freeze every vCPU at these run times
  unsigned snapshots = 0;               ///< N freezes spread over the run deadline
  unsigned freeze_deadline_s = 30;      ///< a freeze not complete by then is partial
  unsigned stall_timeout_s = 120;       ///< no guest output for this long: a hang (0: off)
  std::optional<unsigned> perf_period_ms;  ///< per-vCPU perf sampling period (0: off); unset: choose_perf_period
  unsigned monitor_period_ms = 100;     ///< guest-memory monitor period (0: off)
  std::optional<std::filesystem::path> system_map;  ///< the kernel's System.map (default: beside the kernel, if any)
  std::vector<std::string> watches;     ///< --watch SYMBOL[+OFFSET][:LEN][,freeze], at most 3
  bool hardware_watchpoints = true;     ///< also arm the vCPUs' debug registers (polling runs regardless)
  std::vector<std::string> faults;      ///< --fault KIND:ARGS, injected from the host (apps/cli/vm/fault_option)
  std::string scenario;                 ///< built-in scenario name or scenario file
  std::optional<std::filesystem::path> scheduler;  ///< sched_ext scheduler binary under test
  std::vector<std::string> scheduler_args;         ///< its arguments (after "--")
  std::vector<std::string> payloads;               ///< --payload "PROGRAM ARGS...": command lines (command_words)
  std::optional<std::filesystem::path> junit;      ///< JUnit XML of the scenario's checks
  std::optional<std::filesystem::path> html;       ///< the visual report of this run (one timeline)
  std::vector<std::string> assert_overrides;       ///< KEY=VALUE over the scenario's [assert]
  bool fail_on_skip = false;                       ///< a skipped scenario exits exit_skip, not exit_pass
};

}  // namespace ktstr::cli
