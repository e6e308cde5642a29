#pragma once
// The evidence of one scenario run: the plan's expected workers and what the guest
// agent reported about them (docs/scenario-protocol.md). Protocol problems (a report
// for an unknown worker, a duplicate, a second scenario_done, ...) are listed, never
// thrown: the assertions turn them into findings.
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/protocol/agent_events.hpp"
#include "apps/protocol/plan.hpp"
#include "messages/monitor.hpp"

namespace ktstr::cli {

struct PlannedCgroup {
  std::string path;
  std::optional<std::vector<uint32_t>> cpus;  ///< nullopt: no cpuset restriction
};

struct PlannedWorker {
  uint32_t id = 0;
  std::string name, cgroup, type, policy;
  std::optional<std::vector<uint32_t>> affinity;
  double start_ms = 0;  ///< 0, or the at_ms of the step that spawns it
};

struct PlannedPayload {
  uint32_t id = 0;
  std::string name, program;  ///< program: its path in the guest
  std::vector<std::string> args;
  std::string cgroup;
  double start_ms = 0;
};

/// The parts of /ktstr/plan.json (version 1) the host needs to judge the run.
struct ScenarioPlan {
  std::string name;
  double duration_ms = 0;
  std::vector<uint32_t> usable_cpus;
  std::vector<PlannedCgroup> cgroups;
  std::vector<PlannedWorker> workers;  ///< initial workers, then spawned ones in step order
  std::optional<std::string> scheduler_path;  ///< nullopt: the kernel's built-in scheduler
  std::vector<PlannedPayload> payloads;

  const PlannedWorker* worker(uint32_t id) const;
  const PlannedPayload* payload(uint32_t id) const;
  const PlannedCgroup* cgroup(const std::string& path) const;
  /// The CPUs a worker may run on at the start: its affinity, else its cgroup's
  /// cpuset, else the usable CPUs.
  std::vector<uint32_t> allowed_cpus(const PlannedWorker& worker) const;
};

/// The plan is written by the host, but a malformed one must still not crash.
struct PlanError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The host's view of a plan the protocol parser accepted.
ScenarioPlan scenario_plan(const protocol::Plan& plan);
/// Reads plan JSON with the agent's own parser (protocol::parse_plan): a plan the guest
/// would refuse is refused here too. Throws PlanError with its first error.
ScenarioPlan parse_plan(const nlohmann::json& plan);

struct ScenarioResults {
  ScenarioPlan plan;
  std::vector<protocol::SchedulerEvent> scheduler_events;  ///< in arrival order
  std::optional<protocol::ScenarioStarted> started;
  std::vector<protocol::StepEvent> steps;
  std::map<uint32_t, protocol::WorkerReport> reports;  ///< by worker id; only planned ids
  std::map<uint32_t, protocol::PayloadReport> payloads;  ///< by payload id; only planned ids
  std::optional<protocol::ScenarioDone> done;
  std::vector<std::string> agent_errors;
  std::vector<std::string> protocol_problems;
  std::optional<msg::monitor_report> monitor;  ///< the host's view of guest memory; nullopt: monitor off

  /// Planned workers without a report, in plan order.
  std::vector<const PlannedWorker*> missing_workers() const;
};

/// Feeds one run's events in arrival order.
class ScenarioCollector {
 public:
  explicit ScenarioCollector(ScenarioPlan plan) { results_.plan = std::move(plan); }

  void feed(const protocol::AgentEvent& event);
  void feed(const protocol::ParsedLine& line);  ///< a protocol::ProtocolError is listed as a problem
  void protocol_problem(std::string message);

  const ScenarioResults& results() const { return results_; }
  ScenarioResults take() { return std::move(results_); }

  static constexpr std::size_t kMaxReports = 4096;
  static constexpr std::size_t kMaxListed = 1000;  ///< problems/errors kept; then counted

 private:
  void add_report(const protocol::WorkerReport& report);
  void add_payload(const protocol::PayloadReport& report);
  void list(std::vector<std::string>& where, std::string message);

  ScenarioResults results_;
  std::size_t report_events_ = 0;
};

/// "0-3,6" style list of CPU ids (sorted, ranges collapsed).
std::string format_cpu_list(std::vector<uint32_t> cpus);

}  // namespace ktstr::cli
