#pragma once
// The scenario plan (/ktstr/plan.json, docs/scenario-protocol.md): the one definition of
// its structure, its JSON writer (the host builds a Plan and writes it) and its checked
// parser (the agent reads it; the host reads its own plan back to judge the run). The
// value limits are plan_limits.hpp. No CAF, nothing of the host: the static agent links it.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace ktstr::protocol {

enum class WorkType {
  spin, yield, mixed, sleep, bursty, pipe_pingpong, futex_pingpong, cache_pressure,
  fork_churn, nice_sweep, affinity_churn, policy_churn, rt_hog,
  test_block,  ///< unit tests only (not accepted in a plan): blocks, ignores stop
};
enum class Policy { normal, batch, idle, fifo, rr };

inline constexpr int kPlanVersion = 1;

/// The names of the plan's work types and policies, in enum order: the words of plan.json
/// and of scenario files (test_block is no plan type and has no entry).
inline constexpr std::string_view kWorkTypeNames[] = {
    "spin",       "yield",      "mixed",          "sleep",        "bursty",      "pipe_pingpong", "futex_pingpong",
    "cache_pressure", "fork_churn", "nice_sweep", "affinity_churn", "policy_churn", "rt_hog"};
static_assert(std::size(kWorkTypeNames) == static_cast<std::size_t>(WorkType::test_block));
inline constexpr std::string_view kPolicyNames[] = {"normal", "batch", "idle", "fifo", "rr"};
static_assert(std::size(kPolicyNames) == static_cast<std::size_t>(Policy::rr) + 1);

std::string_view to_string(WorkType type);
std::string_view to_string(Policy policy);
std::optional<WorkType> work_type_from(std::string_view name);
std::optional<Policy> policy_from(std::string_view name);
/// Types whose wake-ups are measured (wake_latency_us is not null).
bool measures_wake_latency(WorkType type);

/// Type-specific numbers; defaults as documented in docs/scenario-protocol.md.
struct WorkParams {
  uint32_t work_us = 1000;
  uint32_t sleep_us = 1000;
  uint32_t burst_ms = 10;
  uint32_t idle_ms = 10;
  uint32_t cache_kib = 1024;
  std::optional<uint32_t> partner;

  bool operator==(const WorkParams&) const = default;
};

struct WorkerSpec {
  uint32_t id = 0;
  std::string name;
  std::string cgroup;  ///< empty: the agent's own cgroup
  WorkType type = WorkType::spin;
  Policy policy = Policy::normal;
  int priority = 0;
  int nice = 0;
  std::optional<std::vector<int>> affinity;
  uint64_t start_ms = 0;
  WorkParams params;

  bool operator==(const WorkerSpec&) const = default;
};

struct CgroupSpec {
  std::string path;
  std::optional<std::vector<int>> cpus;

  bool operator==(const CgroupSpec&) const = default;
};

/// The last four are faults the agent injects (docs/scenario-protocol.md): a signal to the
/// scheduler under test, a CPU taken offline or brought back, a cgroup frozen for a while.
struct Op {
  enum class Kind {
    set_cpuset, clear_cpuset, add_cgroup, remove_cgroup, spawn, stop, move_tasks, set_affinity,
    scheduler_kill, cpu_offline, cpu_online, cgroup_freeze
  };
  Kind kind = Kind::stop;
  std::string cgroup;                 ///< set/clear_cpuset, add/remove_cgroup, cgroup_freeze
  std::optional<std::vector<int>> cpus;  ///< set_cpuset, add_cgroup (null: inherit), set_affinity
  std::vector<WorkerSpec> spawn;      ///< spawn
  std::vector<uint32_t> workers;      ///< stop, set_affinity
  std::string from, to;               ///< move_tasks
  int signal = 0;                     ///< scheduler_kill: 1..64
  int cpu = 0;                        ///< cpu_offline, cpu_online
  uint64_t for_ms = 0;                ///< cgroup_freeze: thawed this long after (1..kMaxDurationMs)

  bool operator==(const Op&) const = default;
};
std::string_view to_string(Op::Kind kind);

/// A cgroup path component (and a scenario name): [A-Za-z0-9_.-]+, not "." or "..".
bool valid_cgroup_component(std::string_view component);
/// Components separated by single '/': the one rule for cgroup names in scenario files
/// (host) and cgroup paths in the plan (agent).
bool valid_cgroup_path(std::string_view path);
std::optional<Op::Kind> op_kind_from(std::string_view name);

struct Step {
  uint64_t at_ms = 0;
  std::vector<Op> ops;

  bool operator==(const Step&) const = default;
};

struct SchedulerSpec {
  std::string path;
  std::vector<std::string> args;
  uint64_t enable_timeout_ms = 10000;

  bool operator==(const SchedulerSpec&) const = default;
};

/// A payload: a real program (stress-ng, hackbench, ...) the agent runs beside or instead
/// of the built-in workers, from t0 + start_ms, in `cgroup`, its stdout and stderr kept.
struct PayloadSpec {
  uint32_t id = 0;
  std::string name;   ///< a cgroup component's characters: names it in events and results
  std::string path;   ///< absolute, in the guest
  std::vector<std::string> args;
  std::string cgroup;  ///< empty: the agent's own cgroup
  uint64_t start_ms = 0;

  bool operator==(const PayloadSpec&) const = default;
};

struct Plan {
  std::string name;
  uint64_t duration_ms = 0;
  std::vector<int> usable_cpus;
  uint32_t checkpoint_us = 1000;
  std::vector<CgroupSpec> cgroups;
  std::vector<WorkerSpec> workers;  ///< initial workers (start_ms 0)
  std::vector<Step> steps;
  std::optional<SchedulerSpec> scheduler;
  std::optional<long long> rt_runtime_us;
  std::vector<PayloadSpec> payloads;
  /// The scenario ends when every payload has ended (a payload-only scenario), at the latest
  /// at duration_ms.
  bool end_with_payloads = false;

  bool operator==(const Plan&) const = default;
};

struct PlanResult {
  std::optional<Plan> plan;
  std::vector<std::string> errors;  ///< non-empty: the scenario must not run
};

/// Parses and checks the plan text. Never throws.
PlanResult parse_plan(std::string_view text);

/// The plan as JSON (version kPlanVersion): every field written, params included, so the
/// file in --out says exactly what the guest ran; parse_plan(to_json(p).dump()) gives p
/// back for every plan that passes parse_plan.
nlohmann::json to_json(const Plan& plan);

}  // namespace ktstr::protocol
