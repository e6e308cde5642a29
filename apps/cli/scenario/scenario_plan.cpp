#include "apps/cli/scenario/scenario_plan.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace ktstr::cli {

namespace {

using nlohmann::json;

constexpr std::string_view kCgroupPrefix = "workload/";
std::string cgroup_path(const std::string& name) { return std::string(kCgroupPrefix) + name; }

// The longest plan string made from a name the parser allows (kMaxNameBytes): a worker
// "<cgroup>-llc<N>.<type>.<index>" in "workload/<cgroup>-llc<N>" must fit the agent's bound.
constexpr std::size_t longest_worker_type() {
  std::size_t n = 0;
  for (auto t : kWorkerTypes) n = std::max(n, t.size());
  return n;
}
static_assert(kCgroupPrefix.size() + protocol::kMaxNameBytes + std::string_view("-llc127.").size() +
                      longest_worker_type() + std::string_view(".511").size() <=
                  protocol::kMaxPlanString,
              "plan strings derived from the longest allowed names exceed the agent's string bound");

json cpus_json(const std::optional<std::vector<uint32_t>>& cpus) { return cpus ? json(*cpus) : json(nullptr); }

/// A worker that exists in the plan, to resolve the steps' cgroup-wide ops.
struct LiveWorker {
  uint32_t id = 0;
  std::string cgroup;  ///< scenario name, follows move_tasks
  std::string type;
  bool running = true;
};

class PlanBuilder {
 public:
  PlanBuilder(const Scenario& s, const kvm::Topology& t) : s_(s), t_(t), usable_(usable_cpus(s, t)) {}

  json build(const std::optional<SchedulerInPlan>& scheduler) {
    json plan = {{"version", kPlanVersion},
                 {"name", s_.name},
                 {"duration_ms", s_.duration_ms},
                 {"usable_cpus", usable_},
                 {"checkpoint_us", kCheckpointUs}};
    json cgroups = json::array(), workers = json::array();
    for (const auto& decl : s_.cgroups) {
      if (decl.per_llc) {
        expand_per_llc(decl, cgroups, workers);
        continue;
      }
      created(decl.name, decl.where);
      cgroups.push_back({{"path", cgroup_path(decl.name)}, {"cpus", cpus_json(cpuset(decl.cpuset, "cgroup " + decl.name))}});
      add_workers(decl.name, decl.workers, 0, workers);
    }
    plan["cgroups"] = std::move(cgroups);
    plan["workers"] = std::move(workers);
    json steps = json::array();
    for (const auto& step : s_.steps) steps.push_back(build_step(step));
    plan["steps"] = std::move(steps);
    if (scheduler)
      plan["scheduler"] = {{"path", scheduler->path}, {"args", scheduler->args}, {"enable_timeout_ms", scheduler->enable_timeout_ms}};
    else
      plan["scheduler"] = nullptr;
    if (!s_.rt_throttle) plan["rt_runtime_us"] = -1;
    return plan;
  }

 private:
  std::optional<std::vector<uint32_t>> cpuset(const std::optional<CpusetSpec>& spec, const std::string& owner) const {
    if (!spec) return std::nullopt;
    return resolve_cpuset(*spec, t_, usable_, owner);
  }

  /// cgroup v2: once controllers are enabled below a cgroup, it cannot hold processes.
  void created(const std::string& name, const SourceRef& where) {
    auto slash = name.rfind('/');
    if (slash != std::string::npos && !running_in(name.substr(0, slash), std::nullopt).empty())
      where.fail("parent cgroup \"" + name.substr(0, slash) +
                 "\" has workers; cgroup v2 keeps processes only in cgroups without children");
    alive_.push_back(name);
    if (++cgroups_created_ > kMaxCgroups)
      where.fail("the scenario creates more than " + std::to_string(kMaxCgroups) + " cgroups on this topology");
  }

  void expand_per_llc(const CgroupDecl& decl, json& cgroups, json& workers) {
    bool any = false;
    for (uint32_t llc = 0; llc < t_.spec().llcs; ++llc) {
      std::vector<uint32_t> cpus;
      for (auto cpu : usable_)
        if (t_.cpu(cpu).llc == llc) cpus.push_back(cpu);
      if (cpus.empty()) continue;  // every CPU of this LLC is reserved
      any = true;
      auto name = decl.name + "-llc" + std::to_string(llc);
      created(name, decl.where);
      cgroups.push_back({{"path", cgroup_path(name)}, {"cpus", cpus}});
      add_workers(name, decl.workers, 0, workers);
    }
    if (!any) SourceRef{decl.where.file, decl.where.line, decl.where.field + ".per_llc"}.fail("no LLC has a usable CPU");
  }

  bool has_children(const std::string& cgroup) const {
    return std::any_of(alive_.begin(), alive_.end(), [&](const std::string& c) { return c.starts_with(cgroup + "/"); });
  }

  void add_workers(const std::string& cgroup, const std::vector<WorkerGroup>& groups, uint64_t start_ms, json& out) {
    for (const auto& g : groups) {
      if (has_children(cgroup))
        g.where.fail("cgroup \"" + cgroup + "\" has child cgroups; cgroup v2 keeps processes only in cgroups without children");
      auto affinity = cpuset(g.affinity, "affinity of " + cgroup + "." + g.type + " workers");
      json params = json::object();
      for (const auto& p : g.params) params[p.name] = p.value;
      uint32_t& index = name_index_[cgroup + "." + g.type];
      for (uint32_t k = 0; k < g.count; ++k) {
        uint32_t id = next_id_++;
        if (next_id_ > kMaxWorkers)
          g.where.fail("the scenario runs more than " + std::to_string(kMaxWorkers) + " workers on this topology");
        json w = {{"id", id},
                  {"name", cgroup + "." + g.type + "." + std::to_string(index++)},
                  {"cgroup", cgroup_path(cgroup)},
                  {"type", g.type},
                  {"policy", g.policy},
                  {"priority", g.priority},
                  {"nice", g.nice},
                  {"affinity", cpus_json(affinity)},
                  {"start_ms", start_ms},
                  {"params", params}};
        if (is_pingpong(g.type)) w["params"]["partner"] = k % 2 == 0 ? id + 1 : id - 1;
        out.push_back(std::move(w));
        live_.push_back({id, cgroup, g.type});
      }
    }
  }

  std::vector<LiveWorker*> running_in(const std::string& cgroup, const std::optional<std::string>& type) {
    std::vector<LiveWorker*> out;
    for (auto& w : live_)
      if (w.running && w.cgroup == cgroup && (!type || w.type == *type)) out.push_back(&w);
    return out;
  }

  static json ids(const std::vector<LiveWorker*>& workers) {
    json out = json::array();
    for (auto* w : workers) out.push_back(w->id);
    return out;
  }

  json build_step(const Step& step) {
    json ops = json::array();
    for (const auto& op : step.ops) {
      auto path = cgroup_path(op.cgroup);
      auto where = [&](std::string_view key) { return SourceRef{op.where.file, op.where.line, op.where.field + "." + std::string(key)}; };
      switch (op.kind) {
        case StepOp::Kind::add_cgroup: {
          created(op.cgroup, where("cgroup"));
          ops.push_back({{"op", "add_cgroup"}, {"cgroup", path}, {"cpus", cpus_json(cpuset(op.cpuset, "cgroup " + op.cgroup))}});
          if (!op.workers.empty()) {
            json workers = json::array();
            add_workers(op.cgroup, op.workers, step.at_ms, workers);
            ops.push_back({{"op", "spawn"}, {"workers", std::move(workers)}});
          }
          break;
        }
        case StepOp::Kind::remove_cgroup:
          for (auto* w : running_in(op.cgroup, std::nullopt)) w->running = false;
          std::erase(alive_, op.cgroup);
          ops.push_back({{"op", "remove_cgroup"}, {"cgroup", path}});
          break;
        case StepOp::Kind::set_cpuset:
          ops.push_back({{"op", "set_cpuset"}, {"cgroup", path}, {"cpus", *cpuset(op.cpuset, "cgroup " + op.cgroup)}});
          break;
        case StepOp::Kind::clear_cpuset: ops.push_back({{"op", "clear_cpuset"}, {"cgroup", path}}); break;
        case StepOp::Kind::spawn: {
          json workers = json::array();
          add_workers(op.cgroup, op.workers, step.at_ms, workers);
          ops.push_back({{"op", "spawn"}, {"workers", std::move(workers)}});
          break;
        }
        case StepOp::Kind::stop: {
          auto workers = running_in(op.cgroup, op.worker_type);
          if (workers.empty())
            where(op.worker_type ? "type" : "cgroup")
                .fail("no running " + (op.worker_type ? *op.worker_type + " " : std::string()) + "workers in cgroup \"" +
                      op.cgroup + "\" at this step");
          for (auto* w : workers) w->running = false;
          ops.push_back({{"op", "stop"}, {"workers", ids(workers)}});
          break;
        }
        case StepOp::Kind::move_tasks:
          if (has_children(op.to))
            where("to").fail("cgroup \"" + op.to + "\" has child cgroups; cgroup v2 keeps processes only in cgroups without children");
          for (auto* w : running_in(op.cgroup, std::nullopt)) w->cgroup = op.to;
          ops.push_back({{"op", "move_tasks"}, {"from", path}, {"to", cgroup_path(op.to)}});
          break;
        case StepOp::Kind::set_affinity: {
          auto workers = running_in(op.cgroup, std::nullopt);
          if (workers.empty()) where("cgroup").fail("no running workers in cgroup \"" + op.cgroup + "\" at this step");
          ops.push_back({{"op", "set_affinity"}, {"workers", ids(workers)},
                         {"cpus", *cpuset(op.cpuset, "affinity of cgroup " + op.cgroup + " workers")}});
          break;
        }
      }
    }
    if (ops.size() > protocol::kMaxOpsPerStep)  // an add_cgroup with workers is two plan ops
      step.where.fail("the step makes " + std::to_string(ops.size()) + " plan ops, at most " +
                      std::to_string(protocol::kMaxOpsPerStep));
    return {{"at_ms", step.at_ms}, {"ops", std::move(ops)}};
  }

  const Scenario& s_;
  const kvm::Topology& t_;
  std::vector<uint32_t> usable_;
  uint32_t next_id_ = 0;
  uint32_t cgroups_created_ = 0;
  std::map<std::string, uint32_t> name_index_;  ///< "cgroup.type" -> next name index
  std::vector<LiveWorker> live_;
  std::vector<std::string> alive_;  ///< cgroups that exist at this point of the plan
};

std::string range_text(uint32_t n) { return n == 1 ? "0" : "0-" + std::to_string(n - 1); }

}  // namespace

std::vector<uint32_t> usable_cpus(const Scenario& scenario, const kvm::Topology& topology) {
  if (scenario.reserve_cpus >= topology.cpu_count())
    scenario.reserve_cpus_where.fail("reserving " + std::to_string(scenario.reserve_cpus) + " CPUs leaves none of the " +
                                     std::to_string(topology.cpu_count()) + " guest CPUs for the workers");
  std::vector<uint32_t> out;
  for (uint32_t cpu = scenario.reserve_cpus; cpu < topology.cpu_count(); ++cpu) out.push_back(cpu);
  return out;
}

std::vector<uint32_t> resolve_cpuset(const CpusetSpec& spec, const kvm::Topology& topology,
                                     const std::vector<uint32_t>& usable, std::string_view owner) {
  auto is_usable = [&](uint32_t cpu) { return std::binary_search(usable.begin(), usable.end(), cpu); };
  auto topo = topology.spec().to_string();
  std::vector<uint32_t> out;
  switch (spec.kind) {
    case CpusetSpec::Kind::cpus:
      for (auto cpu : spec.ids) {
        if (cpu >= topology.cpu_count())
          spec.where.fail("CPU " + std::to_string(cpu) + " does not exist (topology " + topo + " has CPUs " +
                          range_text(topology.cpu_count()) + ")");
        if (!is_usable(cpu))
          spec.where.fail("CPU " + std::to_string(cpu) + " is reserved (reserve_cpus keeps it out of the usable CPUs)");
        out.push_back(cpu);
      }
      break;
    case CpusetSpec::Kind::fraction: {
      auto n = static_cast<double>(usable.size());
      auto lo = static_cast<size_t>(std::floor(spec.from * n + 0.5));
      auto hi = static_cast<size_t>(std::floor(spec.to * n + 0.5));
      if (hi <= lo) {  // a non-empty slice smaller than one CPU gets the CPU at its start
        lo = std::min(lo, usable.size() - 1);
        hi = lo + 1;
      }
      out.assign(usable.begin() + static_cast<long>(lo), usable.begin() + static_cast<long>(hi));
      break;
    }
    case CpusetSpec::Kind::llcs:
    case CpusetSpec::Kind::nodes: {
      bool llc = spec.kind == CpusetSpec::Kind::llcs;
      uint32_t limit = llc ? topology.spec().llcs : topology.spec().numa_nodes;
      for (auto id : spec.ids)
        if (id >= limit)
          spec.where.fail(std::string(llc ? "LLC " : "node ") + std::to_string(id) + " does not exist (topology " +
                          topo + " has " + (llc ? "LLCs " : "nodes ") + range_text(limit) + ")");
      for (auto cpu : usable) {
        const auto& p = topology.cpu(cpu);
        if (std::binary_search(spec.ids.begin(), spec.ids.end(), llc ? p.llc : p.node)) out.push_back(cpu);
      }
      break;
    }
  }
  if (out.empty())
    spec.where.fail(describe(spec) + " for " + std::string(owner) + " resolves to no usable CPU (usable: " +
                    kvm::format_cpu_list(usable) + ")");
  return out;
}

json make_plan(const Scenario& scenario, const kvm::Topology& topology, const std::optional<SchedulerInPlan>& scheduler) {
  return PlanBuilder(scenario, topology).build(scheduler);
}

}  // namespace ktstr::cli
