#pragma once
// Scenario + topology -> the plan JSON the guest agent runs (docs/scenario-protocol.md):
// every cpuset an explicit CPU list, every time an offset from t0 in ms, every worker
// with a run-wide unique id. Errors that need the topology (an LLC that does not exist,
// a cpuset without usable CPUs) are ScenarioErrors naming file, line and field.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/cli/scenario/scenario_model.hpp"
#include "apps/protocol/plan.hpp"
#include "kvm/topology.hpp"

namespace ktstr::cli {

inline constexpr uint32_t kCheckpointUs = 1000;
static_assert(protocol::kCheckpointUs.contains(kCheckpointUs), "the agent rejects this checkpoint_us");

/// All guest CPUs but the first scenario.reserve_cpus.
std::vector<uint32_t> usable_cpus(const Scenario& scenario, const kvm::Topology& topology);

/// The usable CPUs a spec selects, sorted; `owner` names what it is for in errors
/// ("cgroup a", "affinity of a.spin").
std::vector<uint32_t> resolve_cpuset(const CpusetSpec& spec, const kvm::Topology& topology,
                                     const std::vector<uint32_t>& usable, std::string_view owner);

/// The plan; `scheduler` nullopt: the kernel's built-in scheduler (path in the guest,
/// e.g. /ktstr/sched/scx_simple).
protocol::Plan build_plan(const Scenario& scenario, const kvm::Topology& topology,
                          const std::optional<protocol::SchedulerSpec>& scheduler);
/// build_plan written as plan.json (protocol::to_json).
nlohmann::json make_plan(const Scenario& scenario, const kvm::Topology& topology,
                         const std::optional<protocol::SchedulerSpec>& scheduler);

}  // namespace ktstr::cli
