#pragma once
// Runs one scenario plan: scheduler, cgroups, workers, steps on time, reports.
#include <atomic>
#include <string>

#include "agent_channel.hpp"

namespace ktstr::agent {

struct ScenarioOptions {
  std::string cgroup_root = "/sys/fs/cgroup";
  std::string sched_ext_root = "/sys/kernel/sched_ext";
  std::string rt_runtime_path = "/proc/sys/kernel/sched_rt_runtime_us";
  std::string cpu_sysfs_root = "/sys/devices/system/cpu";  ///< cpuN/online for cpu_offline/cpu_online
  int console_fd = -1;  ///< scheduler output copies; -1: none
  uint32_t kill_scheduler_ms = 0;  ///< fault injection (test hook): SIGKILL the scheduler then
};

/// Parses plan_text and runs it, emitting the scenario events (docs/scenario-protocol.md).
/// Returns when the scenario is done or when stop_requested became true (workers are
/// stopped and reported first). Always ends with scenario_done. Never throws.
void run_scenario(const std::string& plan_text, AgentChannel& channel, const std::atomic<bool>& stop_requested,
                  const ScenarioOptions& options = {});

}  // namespace ktstr::agent
