// Plan -> JSON: the one writer of /ktstr/plan.json (docs/scenario-protocol.md). Keys are
// those parse_plan reads; nothing is left to a default on the other side.
#include "apps/protocol/plan.hpp"

namespace ktstr::protocol {

namespace {

using nlohmann::json;

json nullable(const std::optional<std::vector<int>>& cpus) { return cpus ? json(*cpus) : json(nullptr); }

json worker_json(const WorkerSpec& w) {
  json params = {{"work_us", w.params.work_us},
                 {"sleep_us", w.params.sleep_us},
                 {"burst_ms", w.params.burst_ms},
                 {"idle_ms", w.params.idle_ms},
                 {"cache_kib", w.params.cache_kib}};
  if (w.params.partner) params["partner"] = *w.params.partner;
  return {{"id", w.id},
          {"name", w.name},
          {"cgroup", w.cgroup.empty() ? json(nullptr) : json(w.cgroup)},
          {"type", to_string(w.type)},
          {"policy", to_string(w.policy)},
          {"priority", w.priority},
          {"nice", w.nice},
          {"affinity", nullable(w.affinity)},
          {"start_ms", w.start_ms},
          {"params", std::move(params)}};
}

json op_json(const Op& op) {
  json out = {{"op", to_string(op.kind)}};
  switch (op.kind) {
    case Op::Kind::add_cgroup:
      out["cgroup"] = op.cgroup;
      out["cpus"] = nullable(op.cpus);
      break;
    case Op::Kind::set_cpuset:
      out["cgroup"] = op.cgroup;
      out["cpus"] = nullable(op.cpus);
      break;
    case Op::Kind::clear_cpuset:
    case Op::Kind::remove_cgroup:
      out["cgroup"] = op.cgroup;
      break;
    case Op::Kind::spawn: {
      json workers = json::array();
      for (const auto& w : op.spawn) workers.push_back(worker_json(w));
      out["workers"] = std::move(workers);
      break;
    }
    case Op::Kind::stop:
      out["workers"] = op.workers;
      break;
    case Op::Kind::set_affinity:
      out["workers"] = op.workers;
      out["cpus"] = nullable(op.cpus);
      break;
    case Op::Kind::scheduler_kill:
      out["signal"] = op.signal;
      break;
    case Op::Kind::cpu_offline:
    case Op::Kind::cpu_online:
      out["cpu"] = op.cpu;
      break;
    case Op::Kind::cgroup_freeze:
      out["cgroup"] = op.cgroup;
      out["for_ms"] = op.for_ms;
      break;
    case Op::Kind::move_tasks:
      out["from"] = op.from;
      out["to"] = op.to;
      break;
  }
  return out;
}

}  // namespace

json to_json(const Plan& plan) {
  json cgroups = json::array(), workers = json::array(), steps = json::array();
  for (const auto& c : plan.cgroups) cgroups.push_back({{"path", c.path}, {"cpus", nullable(c.cpus)}});
  for (const auto& w : plan.workers) workers.push_back(worker_json(w));
  for (const auto& s : plan.steps) {
    json ops = json::array();
    for (const auto& op : s.ops) ops.push_back(op_json(op));
    steps.push_back({{"at_ms", s.at_ms}, {"ops", std::move(ops)}});
  }
  json out = {{"version", kPlanVersion},
              {"name", plan.name},
              {"duration_ms", plan.duration_ms},
              {"usable_cpus", plan.usable_cpus},
              {"checkpoint_us", plan.checkpoint_us},
              {"cgroups", std::move(cgroups)},
              {"workers", std::move(workers)},
              {"steps", std::move(steps)},
              {"scheduler", nullptr}};
  if (plan.scheduler)
    out["scheduler"] = {{"path", plan.scheduler->path},
                        {"args", plan.scheduler->args},
                        {"enable_timeout_ms", plan.scheduler->enable_timeout_ms}};
  if (plan.rt_runtime_us) out["rt_runtime_us"] = *plan.rt_runtime_us;
  json payloads = json::array();
  for (const auto& p : plan.payloads)
    payloads.push_back({{"id", p.id}, {"name", p.name}, {"path", p.path}, {"args", p.args}, {"cgroup", p.cgroup},
                        {"start_ms", p.start_ms}});
  out["payloads"] = std::move(payloads);
  out["end_with_payloads"] = plan.end_with_payloads;
  return out;
}

}  // namespace ktstr::protocol
