#include "apps/cli/verdict/scenario_results.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <type_traits>

#include "kvm/cpu_list.hpp"

namespace ktstr::cli {

namespace {

using nlohmann::json;

[[noreturn]] void plan_fail(const std::string& message) { throw PlanError("plan: " + message); }

const json& member(const json& object, const char* key, const std::string& where) {
  auto it = object.find(key);
  if (it == object.end()) plan_fail(where + key + " is missing");
  return *it;
}

std::string plan_string(const json& object, const char* key, const std::string& where) {
  const json& v = member(object, key, where);
  if (!v.is_string()) plan_fail(where + key + " must be a string");
  return v.get<std::string>();
}

double plan_number(const json& object, const char* key, const std::string& where) {
  const json& v = member(object, key, where);
  if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0)
    plan_fail(where + key + " must be a finite, non-negative number");
  return v.get<double>();
}

uint32_t plan_u32(const json& v, const std::string& name) {
  // The host builds the plan, possibly from signed ints: any integer in range will do.
  if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > int64_t{UINT32_MAX})
    plan_fail(name + " must be an unsigned 32-bit integer");
  return static_cast<uint32_t>(v.get<int64_t>());
}

const json& plan_array(const json& object, const char* key, const std::string& where) {
  const json& v = member(object, key, where);
  if (!v.is_array()) plan_fail(where + key + " must be an array");
  return v;
}

std::vector<uint32_t> plan_cpus(const json& v, const std::string& name) {
  if (!v.is_array()) plan_fail(name + " must be an array of CPU ids");
  std::vector<uint32_t> cpus;
  for (std::size_t i = 0; i < v.size(); ++i) cpus.push_back(plan_u32(v[i], name + "[" + std::to_string(i) + "]"));
  return cpus;
}

std::optional<std::vector<uint32_t>> plan_optional_cpus(const json& object, const char* key,
                                                        const std::string& where) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::nullopt;
  return plan_cpus(*it, where + key);
}

PlannedWorker plan_worker(const json& w, const std::string& where, double start_ms) {
  if (!w.is_object()) plan_fail(where + " must be an object");
  const std::string at = where + ".";
  PlannedWorker worker;
  worker.id = plan_u32(member(w, "id", at), at + "id");
  worker.name = plan_string(w, "name", at);
  worker.cgroup = plan_string(w, "cgroup", at);
  worker.type = plan_string(w, "type", at);
  worker.policy = w.contains("policy") ? plan_string(w, "policy", at) : "normal";
  worker.affinity = plan_optional_cpus(w, "affinity", at);
  worker.start_ms = w.contains("start_ms") ? plan_number(w, "start_ms", at) : start_ms;
  return worker;
}

}  // namespace

const PlannedWorker* ScenarioPlan::worker(uint32_t id) const {
  auto it = std::find_if(workers.begin(), workers.end(), [&](auto& w) { return w.id == id; });
  return it == workers.end() ? nullptr : &*it;
}

const PlannedCgroup* ScenarioPlan::cgroup(const std::string& path) const {
  auto it = std::find_if(cgroups.begin(), cgroups.end(), [&](auto& c) { return c.path == path; });
  return it == cgroups.end() ? nullptr : &*it;
}

std::vector<uint32_t> ScenarioPlan::allowed_cpus(const PlannedWorker& w) const {
  if (w.affinity) return *w.affinity;
  if (const PlannedCgroup* c = cgroup(w.cgroup); c && c->cpus) return *c->cpus;
  return usable_cpus;
}

ScenarioPlan parse_plan(const json& plan) {
  if (!plan.is_object()) plan_fail("must be a JSON object");
  if (plan.value("version", json()) != 1) plan_fail("version must be 1");
  ScenarioPlan out;
  out.name = plan_string(plan, "name", "");
  out.duration_ms = plan_number(plan, "duration_ms", "");
  out.usable_cpus = plan_cpus(member(plan, "usable_cpus", ""), "usable_cpus");
  const json& cgroups = plan_array(plan, "cgroups", "");
  for (std::size_t i = 0; i < cgroups.size(); ++i) {
    const std::string at = "cgroups[" + std::to_string(i) + "].";
    if (!cgroups[i].is_object()) plan_fail(at + " must be an object");
    out.cgroups.push_back({plan_string(cgroups[i], "path", at), plan_optional_cpus(cgroups[i], "cpus", at)});
  }
  const json& workers = plan_array(plan, "workers", "");
  for (std::size_t i = 0; i < workers.size(); ++i)
    out.workers.push_back(plan_worker(workers[i], "workers[" + std::to_string(i) + "]", 0));
  if (plan.contains("steps")) {
    const json& steps = plan_array(plan, "steps", "");
    for (std::size_t s = 0; s < steps.size(); ++s) {
      const std::string at = "steps[" + std::to_string(s) + "].";
      if (!steps[s].is_object()) plan_fail(at + " must be an object");
      double at_ms = plan_number(steps[s], "at_ms", at);
      const json& ops = plan_array(steps[s], "ops", at);
      for (std::size_t o = 0; o < ops.size(); ++o) {
        const std::string op_at = at + "ops[" + std::to_string(o) + "].";
        if (!ops[o].is_object()) plan_fail(op_at + " must be an object");
        if (plan_string(ops[o], "op", op_at) == "add_cgroup")
          out.cgroups.push_back({plan_string(ops[o], "cgroup", op_at), plan_optional_cpus(ops[o], "cpus", op_at)});
        if (ops[o]["op"] != "spawn") continue;
        const json& spawned = plan_array(ops[o], "workers", op_at);
        for (std::size_t w = 0; w < spawned.size(); ++w)
          out.workers.push_back(plan_worker(spawned[w], op_at + "workers[" + std::to_string(w) + "]", at_ms));
      }
    }
  }
  std::set<uint32_t> ids;
  for (const auto& w : out.workers)
    if (!ids.insert(w.id).second) plan_fail("worker id " + std::to_string(w.id) + " is used twice");
  if (auto it = plan.find("scheduler"); it != plan.end() && !it->is_null()) {
    if (!it->is_object()) plan_fail("scheduler must be an object or null");
    out.scheduler_path = plan_string(*it, "path", "scheduler.");
  }
  return out;
}

std::vector<const PlannedWorker*> ScenarioResults::missing_workers() const {
  std::vector<const PlannedWorker*> missing;
  for (const auto& w : plan.workers)
    if (!reports.count(w.id)) missing.push_back(&w);
  return missing;
}

void ScenarioCollector::list(std::vector<std::string>& where, std::string message) {
  if (where.size() < kMaxListed) where.push_back(std::move(message));
  else if (where.size() == kMaxListed) where.push_back("further messages dropped");
}

void ScenarioCollector::protocol_problem(std::string message) { list(results_.protocol_problems, std::move(message)); }

void ScenarioCollector::feed(const ParsedLine& line) {
  if (auto* error = std::get_if<ProtocolError>(&line)) protocol_problem(error->message);
  else feed(std::get<AgentEvent>(line));
}

void ScenarioCollector::feed(const AgentEvent& event) {
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, SchedulerEvent>) {
          if (results_.scheduler_events.size() < kMaxListEntries) results_.scheduler_events.push_back(e);
          else protocol_problem("more than " + std::to_string(kMaxListEntries) + " scheduler events");
        } else if constexpr (std::is_same_v<T, ScenarioStarted>) {
          if (results_.started) return protocol_problem("scenario_started came twice (seq " + std::to_string(e.seq) + ")");
          if (e.name != results_.plan.name)
            protocol_problem("scenario_started names scenario \"" + printable_excerpt(e.name) + "\", the plan \"" +
                             printable_excerpt(results_.plan.name) + "\"");
          results_.started = e;
        } else if constexpr (std::is_same_v<T, StepEvent>) {
          if (results_.steps.size() < kMaxListEntries) results_.steps.push_back(e);
          else protocol_problem("more than " + std::to_string(kMaxListEntries) + " step events");
        } else if constexpr (std::is_same_v<T, WorkerReport>) {
          add_report(e);
        } else if constexpr (std::is_same_v<T, ScenarioDone>) {
          if (results_.done) return protocol_problem("scenario_done came twice (seq " + std::to_string(e.seq) + ")");
          results_.done = e;
        } else if constexpr (std::is_same_v<T, AgentError>) {
          list(results_.agent_errors, e.message);
        }
      },
      event);
}

void ScenarioCollector::add_report(const WorkerReport& report) {
  if (++report_events_ > kMaxReports) {
    if (report_events_ == kMaxReports + 1)
      protocol_problem("more than " + std::to_string(kMaxReports) + " worker reports; the rest are ignored");
    return;
  }
  const std::string who = "worker_report for worker " + std::to_string(report.id) + " (\"" +
                          printable_excerpt(report.name) + "\")";
  const PlannedWorker* planned = results_.plan.worker(report.id);
  if (!planned) return protocol_problem(who + ": no such worker in the plan");
  if (results_.reports.count(report.id)) return protocol_problem(who + " came twice; the first is kept");
  if (report.name != planned->name || report.cgroup != planned->cgroup || report.type != planned->type)
    protocol_problem(who + ": name, cgroup or type differ from the plan's \"" + planned->name + "\" in " +
                     planned->cgroup + " (" + planned->type + ")");
  results_.reports.emplace(report.id, report);
}

std::string format_cpu_list(std::vector<uint32_t> cpus) {
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus.empty() ? "none" : kvm::format_sorted_cpu_list(cpus);
}

}  // namespace ktstr::cli
