#include "apps/cli/scenario/scenario_plan.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>

#include "apps/protocol/guest_paths.hpp"

namespace ktstr::cli {

namespace {

using nlohmann::json;
namespace wire = protocol;  // the plan's structure (apps/protocol/plan.hpp)

constexpr std::string_view kCgroupPrefix = "workload/";
std::string cgroup_path(const std::string& name) { return std::string(kCgroupPrefix) + name; }

/// A payload's default name: its program's file name, as a plan name allows it.
std::string payload_default_name(const std::string& program) {
  std::string name = std::filesystem::path(program).filename().string();
  for (char& c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) c = '_';
  if (name.empty() || name == "." || name == "..") name = "payload";
  if (name.size() > protocol::kMaxNameBytes) name.resize(protocol::kMaxNameBytes);
  return name;
}

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

/// The plan's CPU lists are sets: sorted, as the agent reads them.
std::vector<int> wire_cpus(std::vector<uint32_t> cpus) {
  std::sort(cpus.begin(), cpus.end());
  return {cpus.begin(), cpus.end()};
}
std::optional<std::vector<int>> wire_cpus(const std::optional<std::vector<uint32_t>>& cpus) {
  if (!cpus) return std::nullopt;
  return wire_cpus(*cpus);
}

/// The scenario parser accepted only the protocol's names (kWorkerTypes, kPolicies).
wire::WorkType wire_type(const std::string& type) {
  if (auto t = wire::work_type_from(type)) return *t;
  throw std::logic_error("worker type \"" + type + "\" is not the protocol's");
}
wire::Policy wire_policy(const std::string& policy) {
  if (auto p = wire::policy_from(policy)) return *p;
  throw std::logic_error("policy \"" + policy + "\" is not the protocol's");
}
void set_param(wire::WorkParams& params, const WorkerParam& p) {
  const auto v = static_cast<uint32_t>(p.value);  // within plan_limits.hpp (scenario parser)
  if (p.name == "work_us") params.work_us = v;
  else if (p.name == "sleep_us") params.sleep_us = v;
  else if (p.name == "burst_ms") params.burst_ms = v;
  else if (p.name == "idle_ms") params.idle_ms = v;
  else if (p.name == "cache_kib") params.cache_kib = v;
  else throw std::logic_error("worker param \"" + p.name + "\" is not the protocol's");
}

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

  wire::Plan build(const std::optional<wire::SchedulerSpec>& scheduler) {
    wire::Plan plan;
    plan.name = s_.name;
    plan.duration_ms = s_.duration_ms;
    plan.usable_cpus = wire_cpus(usable_);
    plan.checkpoint_us = kCheckpointUs;
    for (const auto& decl : s_.cgroups) {
      if (decl.per_llc) {
        expand_per_llc(decl, plan.cgroups, plan.workers);
        continue;
      }
      created(decl.name, decl.where);
      plan.cgroups.push_back({cgroup_path(decl.name), wire_cpus(cpuset(decl.cpuset, "cgroup " + decl.name))});
      add_workers(decl.name, decl.workers, 0, plan.workers);
    }
    for (const auto& step : s_.steps) plan.steps.push_back(build_step(step));
    add_payloads(plan);
    plan.scheduler = scheduler;
    if (!s_.rt_throttle) plan.rt_runtime_us = -1;
    return plan;
  }

 private:
  /// The payloads, each named uniquely (a repeated name gets "-2", "-3", ...); a plan
  /// without any worker, spawned ones included, ends with its payloads.
  void add_payloads(wire::Plan& plan) const {
    std::set<std::string> taken;
    for (size_t i = 0; i < s_.payloads.size(); ++i) {
      const PayloadDecl& decl = s_.payloads[i];
      wire::PayloadSpec p;
      p.id = static_cast<uint32_t>(i);
      const std::string base = decl.name.empty() ? payload_default_name(decl.command.at(0)) : decl.name;
      p.name = base;
      for (int n = 2; !taken.insert(p.name).second; ++n) p.name = base + "-" + std::to_string(n);
      p.path = protocol::guest_payload_path(i, decl.command.at(0));
      if (p.path.size() > protocol::kMaxPlanString) decl.where.fail("the program's file name is too long for the guest");
      p.args.assign(decl.command.begin() + 1, decl.command.end());
      if (!decl.cgroup.empty()) p.cgroup = cgroup_path(decl.cgroup);
      p.start_ms = decl.start_ms;
      plan.payloads.push_back(std::move(p));
    }
    bool any_worker = !plan.workers.empty();
    for (const auto& step : plan.steps)
      for (const auto& op : step.ops) any_worker = any_worker || !op.spawn.empty();
    plan.end_with_payloads = !plan.payloads.empty() && !any_worker;
  }

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

  void expand_per_llc(const CgroupDecl& decl, std::vector<wire::CgroupSpec>& cgroups,
                      std::vector<wire::WorkerSpec>& workers) {
    bool any = false;
    for (uint32_t llc = 0; llc < t_.spec().llcs; ++llc) {
      std::vector<uint32_t> cpus;
      for (auto cpu : usable_)
        if (t_.cpu(cpu).llc == llc) cpus.push_back(cpu);
      if (cpus.empty()) continue;  // every CPU of this LLC is reserved
      any = true;
      auto name = decl.name + "-llc" + std::to_string(llc);
      created(name, decl.where);
      cgroups.push_back({cgroup_path(name), wire_cpus(cpus)});
      add_workers(name, decl.workers, 0, workers);
    }
    if (!any) SourceRef{decl.where.file, decl.where.line, decl.where.field + ".per_llc"}.fail("no LLC has a usable CPU");
  }

  bool has_children(const std::string& cgroup) const {
    return std::any_of(alive_.begin(), alive_.end(), [&](const std::string& c) { return c.starts_with(cgroup + "/"); });
  }

  void add_workers(const std::string& cgroup, const std::vector<WorkerGroup>& groups, uint64_t start_ms,
                   std::vector<wire::WorkerSpec>& out) {
    for (const auto& g : groups) {
      if (has_children(cgroup))
        g.where.fail("cgroup \"" + cgroup + "\" has child cgroups; cgroup v2 keeps processes only in cgroups without children");
      auto affinity = cpuset(g.affinity, "affinity of " + cgroup + "." + g.type + " workers");
      wire::WorkParams params;
      for (const auto& p : g.params) set_param(params, p);
      uint32_t& index = name_index_[cgroup + "." + g.type];
      for (uint32_t k = 0; k < g.count; ++k) {
        uint32_t id = next_id_++;
        if (next_id_ > kMaxWorkers)
          g.where.fail("the scenario runs more than " + std::to_string(kMaxWorkers) + " workers on this topology");
        wire::WorkerSpec w;
        w.id = id;
        w.name = cgroup + "." + g.type + "." + std::to_string(index++);
        w.cgroup = cgroup_path(cgroup);
        w.type = wire_type(g.type);
        w.policy = wire_policy(g.policy);
        w.priority = static_cast<int>(g.priority);
        w.nice = g.nice;
        w.affinity = wire_cpus(affinity);
        w.start_ms = start_ms;
        w.params = params;
        if (is_pingpong(g.type)) w.params.partner = k % 2 == 0 ? id + 1 : id - 1;
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

  static std::vector<uint32_t> ids(const std::vector<LiveWorker*>& workers) {
    std::vector<uint32_t> out;
    for (auto* w : workers) out.push_back(w->id);
    return out;
  }

  static wire::Op op_of(wire::Op::Kind kind) {
    wire::Op op;
    op.kind = kind;
    return op;
  }

  wire::Step build_step(const Step& step) {
    std::vector<wire::Op> ops;
    for (const auto& op : step.ops) {
      if (op.kind == StepOp::Kind::watch) continue;  // host side: the monitor watches from this step on
      if (op.kind == StepOp::Kind::scheduler_kill) {
        ops.emplace_back(op_of(wire::Op::Kind::scheduler_kill)).signal = op.signal;
        continue;
      }
      if (op.kind == StepOp::Kind::cpu_offline || op.kind == StepOp::Kind::cpu_online) {
        if (op.cpu >= t_.cpu_count())
          SourceRef{op.where.file, op.where.line, op.where.field + ".cpu"}.fail(
              "CPU " + std::to_string(op.cpu) + " is not in the topology (" + std::to_string(t_.cpu_count()) + " CPUs)");
        ops.emplace_back(op_of(op.kind == StepOp::Kind::cpu_offline ? wire::Op::Kind::cpu_offline : wire::Op::Kind::cpu_online))
            .cpu = static_cast<int>(op.cpu);
        continue;
      }
      auto path = cgroup_path(op.cgroup);
      auto where = [&](std::string_view key) { return SourceRef{op.where.file, op.where.line, op.where.field + "." + std::string(key)}; };
      switch (op.kind) {
        case StepOp::Kind::add_cgroup: {
          created(op.cgroup, where("cgroup"));
          auto& add = ops.emplace_back(op_of(wire::Op::Kind::add_cgroup));
          add.cgroup = path;
          add.cpus = wire_cpus(cpuset(op.cpuset, "cgroup " + op.cgroup));
          if (!op.workers.empty()) {
            auto& spawn = ops.emplace_back(op_of(wire::Op::Kind::spawn));
            add_workers(op.cgroup, op.workers, step.at_ms, spawn.spawn);
          }
          break;
        }
        case StepOp::Kind::remove_cgroup:
          for (auto* w : running_in(op.cgroup, std::nullopt)) w->running = false;
          std::erase(alive_, op.cgroup);
          ops.emplace_back(op_of(wire::Op::Kind::remove_cgroup)).cgroup = path;
          break;
        case StepOp::Kind::set_cpuset: {
          auto& set = ops.emplace_back(op_of(wire::Op::Kind::set_cpuset));
          set.cgroup = path;
          set.cpus = wire_cpus(*cpuset(op.cpuset, "cgroup " + op.cgroup));
          break;
        }
        case StepOp::Kind::clear_cpuset: ops.emplace_back(op_of(wire::Op::Kind::clear_cpuset)).cgroup = path; break;
        case StepOp::Kind::spawn: {
          auto& spawn = ops.emplace_back(op_of(wire::Op::Kind::spawn));
          add_workers(op.cgroup, op.workers, step.at_ms, spawn.spawn);
          break;
        }
        case StepOp::Kind::stop: {
          auto workers = running_in(op.cgroup, op.worker_type);
          if (workers.empty())
            where(op.worker_type ? "type" : "cgroup")
                .fail("no running " + (op.worker_type ? *op.worker_type + " " : std::string()) + "workers in cgroup \"" +
                      op.cgroup + "\" at this step");
          for (auto* w : workers) w->running = false;
          ops.emplace_back(op_of(wire::Op::Kind::stop)).workers = ids(workers);
          break;
        }
        case StepOp::Kind::move_tasks: {
          if (has_children(op.to))
            where("to").fail("cgroup \"" + op.to + "\" has child cgroups; cgroup v2 keeps processes only in cgroups without children");
          for (auto* w : running_in(op.cgroup, std::nullopt)) w->cgroup = op.to;
          auto& move = ops.emplace_back(op_of(wire::Op::Kind::move_tasks));
          move.from = path;
          move.to = cgroup_path(op.to);
          break;
        }
        case StepOp::Kind::watch:
        case StepOp::Kind::scheduler_kill:
        case StepOp::Kind::cpu_offline:
        case StepOp::Kind::cpu_online: break;  // above
        case StepOp::Kind::cgroup_freeze: {
          auto& freeze = ops.emplace_back(op_of(wire::Op::Kind::cgroup_freeze));
          freeze.cgroup = path;
          freeze.for_ms = op.for_ms;
          break;
        }
        case StepOp::Kind::set_affinity: {
          auto workers = running_in(op.cgroup, std::nullopt);
          if (workers.empty()) where("cgroup").fail("no running workers in cgroup \"" + op.cgroup + "\" at this step");
          auto& set = ops.emplace_back(op_of(wire::Op::Kind::set_affinity));
          set.workers = ids(workers);
          set.cpus = wire_cpus(*cpuset(op.cpuset, "affinity of cgroup " + op.cgroup + " workers"));
          break;
        }
      }
    }
    if (ops.size() > protocol::kMaxOpsPerStep)  // an add_cgroup with workers is two plan ops
      step.where.fail("the step makes " + std::to_string(ops.size()) + " plan ops, at most " +
                      std::to_string(protocol::kMaxOpsPerStep));
    return {step.at_ms, std::move(ops)};
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

protocol::Plan build_plan(const Scenario& scenario, const kvm::Topology& topology,
                          const std::optional<protocol::SchedulerSpec>& scheduler) {
  return PlanBuilder(scenario, topology).build(scheduler);
}

json make_plan(const Scenario& scenario, const kvm::Topology& topology,
               const std::optional<protocol::SchedulerSpec>& scheduler) {
  return protocol::to_json(build_plan(scenario, topology, scheduler));
}

}  // namespace ktstr::cli
