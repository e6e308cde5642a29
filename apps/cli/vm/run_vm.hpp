#pragma once
// Runs one VM under the actor system and collects what the guest agent reported.
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "apps/protocol/agent_events.hpp"
#include "actors/monitor.hpp"
#include "kvm/guest_kernel/kernel_layout.hpp"
#include "kvm/machine.hpp"
#include "messages/fault.hpp"
#include "messages/freeze.hpp"
#include "messages/run.hpp"

namespace ktstr::cli {

struct RunObservation {
  msg::run_finished finished;
  std::optional<protocol::BootDone> boot_done;
  double boot_done_at_s = 0;  ///< host seconds from VM start to the agent's first line
  std::optional<protocol::KernelInfo> kernel;
  std::optional<protocol::TopologyReport> topology;
  bool agent_powered_off = false;
  std::vector<std::string> agent_errors;     ///< the agent's own agent_error events
  std::vector<std::string> protocol_errors;  ///< lines we could not accept
  std::vector<double> heartbeat_at_s;        ///< host times of agent heartbeats
  std::vector<msg::snapshot> snapshots;
  /// Scenario events (scheduler, scenario_started, step, worker_report, scenario_done)
  /// in arrival order, at most kMaxScenarioEvents.
  std::vector<protocol::AgentEvent> scenario_events;
  bool scenario_events_truncated = false;
  std::string perf_off_reason;  ///< empty when the perf sampler ran
};

inline constexpr std::size_t kMaxScenarioEvents = 20000;

struct VmRunLimits {
  std::chrono::seconds run_deadline{60};
  std::chrono::seconds stall_timeout{0};
  std::chrono::seconds freeze_deadline{30};
  std::chrono::milliseconds perf_period{0};
  std::string perf_off_reason;  ///< why perf_period is 0 (in the report)
  std::vector<std::pair<std::chrono::milliseconds, std::string>> freeze_schedule;
  std::chrono::milliseconds monitor_period{0};  ///< 0: no monitor
  std::optional<guest_kernel::KernelLayout> kernel_layout;  ///< nullopt: monitor unavailable, why below
  std::string monitor_unavailable;
  std::vector<actors::WatchConfig> watches;  ///< run --watch, resolved
  bool hardware_watchpoints = true;
  std::vector<msg::fault_event> faults;      ///< run --fault, checked
};

struct VmRunPaths {
  std::filesystem::path kernel_log;
  std::filesystem::path agent_log;
};

RunObservation run_vm(const kvm::MachineConfig& machine, const VmRunPaths& paths, const VmRunLimits& limits);

}  // namespace ktstr::cli
