#pragma once
// A parsed scenario file (docs/scenarios.md): what the user declared, before it is
// resolved against a topology into a plan (scenario_plan.hpp, docs/scenario-protocol.md).
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "kvm/guest_kernel/word_condition.hpp"
#include "apps/cli/scenario/assertion_thresholds.hpp"
#include "apps/protocol/plan.hpp"
#include "apps/protocol/plan_limits.hpp"

namespace ktstr::cli {

/// One line: "FILE:LINE: FIELD: problem" (or "FILE: problem" without a line).
struct ScenarioError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Where a value was written, for errors found after parsing (e.g. at plan time).
struct SourceRef {
  std::string file;
  uint32_t line = 0;
  std::string field;  ///< e.g. "cgroup[1].cpuset"

  /// Throws ScenarioError "file:line: field: problem".
  [[noreturn]] void fail(std::string_view problem) const;
};

/// Bounds: the plan's, shared with the agent (apps/protocol/plan_limits.hpp).
inline constexpr uint32_t kMaxWorkers = protocol::kMaxWorkers;
inline constexpr uint32_t kMaxCgroups = protocol::kMaxCgroups;
inline constexpr uint32_t kMaxSteps = protocol::kMaxSteps;
inline constexpr uint64_t kMaxDurationMs = protocol::kMaxDurationMs;
/// watch ops in one scenario: the debug registers' user slots (1-3; --watch shares them).
inline constexpr size_t kMaxScenarioWatches = 3;
/// A worker group's count: a group can hold every worker of the run, no more.
inline constexpr uint32_t kMaxGroupCount = protocol::kMaxWorkers;

enum class ExpectedVerdict { pass, fail, inconclusive };
std::string_view to_string(ExpectedVerdict v);

/// A cpuset as declared; resolved against the usable CPUs at plan time.
struct CpusetSpec {
  enum class Kind { cpus, fraction, llcs, nodes };
  Kind kind = Kind::cpus;
  std::vector<uint32_t> ids;  ///< CPU ids (cpus), LLC indices (llcs), node ids (nodes)
  double from = 0, to = 1;    ///< fraction: the slice [from, to) of the usable CPUs
  SourceRef where;
};
/// The spec as written in TOML, for messages: "{ llc = 3 }".
std::string describe(const CpusetSpec& spec);

/// The worker types and policies a scenario file may name: the protocol's.
inline constexpr const auto& kWorkerTypes = protocol::kWorkTypeNames;
inline constexpr const auto& kPolicies = protocol::kPolicyNames;
bool is_pingpong(std::string_view type);
bool is_realtime(std::string_view policy);
/// The params a worker type uses (work_us, sleep_us, burst_ms, idle_ms, cache_kib).
std::vector<std::string_view> params_of(std::string_view type);

struct WorkerParam {
  std::string name;  ///< work_us, sleep_us, burst_ms, idle_ms, cache_kib
  uint64_t value = 0;
};

struct WorkerGroup {
  std::string type;
  uint32_t count = 1;
  std::string policy = "normal";
  uint32_t priority = 0;  ///< 1..99 for fifo/rr, else 0
  int32_t nice = 0;
  std::optional<CpusetSpec> affinity;
  std::vector<WorkerParam> params;  ///< only those written, in key order
  SourceRef where;
};

struct CgroupDecl {
  std::string name;  ///< "a" or "a/b" (parent declared before)
  std::optional<CpusetSpec> cpuset;
  std::vector<WorkerGroup> workers;
  /// One cgroup per LLC: "<name>-llc<i>", each with cpuset { llc = i }.
  bool per_llc = false;
  SourceRef where;
};

struct StepOp {
  /// The last four are faults the guest agent injects (docs/scenarios.md "Fault ops").
  enum class Kind {
    add_cgroup, remove_cgroup, set_cpuset, clear_cpuset, spawn, stop, move_tasks, set_affinity, watch,
    scheduler_kill, cpu_offline, cpu_online, cgroup_freeze
  };
  Kind kind = Kind::add_cgroup;
  std::string cgroup;                      ///< every op but move_tasks ("from" there)
  std::string to;                          ///< move_tasks
  std::optional<CpusetSpec> cpuset;        ///< add_cgroup, set_cpuset, set_affinity
  std::vector<WorkerGroup> workers;        ///< add_cgroup, spawn
  std::optional<std::string> worker_type;  ///< stop: only workers of this type
  /// watch (host side, not in the plan): a kernel word the monitor watches from this
  /// step on, SYMBOL[+OFFSET][:LEN] (apps/cli/base/watch_spec), each change an event (only
  /// those meeting `when`), and with `freeze` a snapshot.
  std::string word;
  bool freeze = false;
  std::optional<guest_kernel::WordCondition> when;
  int signal = 9;            ///< scheduler_kill
  uint32_t cpu = 0;          ///< cpu_offline, cpu_online
  uint64_t for_ms = 0;       ///< cgroup_freeze: how long the cgroup stays frozen
  SourceRef where;
};
std::string_view to_string(StepOp::Kind kind);

struct Step {
  uint64_t at_ms = 0;    ///< sum of the holds of the steps before
  uint64_t hold_ms = 0;
  std::vector<StepOp> ops;
  SourceRef where;
};

/// A payload: a real program run in the guest beside (or instead of) the workers
/// (docs/scenarios.md [[payload]], `run --payload`).
struct PayloadDecl {
  std::string name;                  ///< names it in results; default: the program's file name
  std::vector<std::string> command;  ///< argv; [0] a program on the host's PATH, or a path
  std::string cgroup;                ///< a cgroup of the file's [[cgroup]], or empty: the agent's
  uint64_t start_ms = 0;
  std::string base_dir;              ///< where a relative program path is found (the file's directory)
  SourceRef where;
};

/// A scenario without workers runs its payloads alone and ends when they end, at most this long.
inline constexpr uint64_t kPayloadOnlyDurationMs = 60'000;

struct Scenario {
  std::string file;  ///< as given to the parser, used in every error
  std::string name;
  std::string description;
  uint64_t duration_ms = 0;
  ExpectedVerdict expect = ExpectedVerdict::pass;  ///< expected verdict under the kernel's built-in scheduler
  uint32_t reserve_cpus = 0;       ///< the first N CPUs are not usable by workers
  SourceRef reserve_cpus_where;
  bool rt_throttle = true;         ///< false: the agent turns RT throttling off
  AssertionThresholds thresholds;
  std::vector<CgroupDecl> cgroups;
  std::vector<Step> steps;
  std::vector<PayloadDecl> payloads;
  SourceRef where;  ///< the file itself (line 1)
};

}  // namespace ktstr::cli
