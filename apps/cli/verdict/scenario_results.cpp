#include "apps/cli/verdict/scenario_results.hpp"

#include <algorithm>
#include <type_traits>

#include "kvm/cpu_list.hpp"

namespace ktstr::cli {

namespace {

std::vector<uint32_t> host_cpus(const std::vector<int>& cpus) { return {cpus.begin(), cpus.end()}; }
std::optional<std::vector<uint32_t>> host_cpus(const std::optional<std::vector<int>>& cpus) {
  if (!cpus) return std::nullopt;
  return host_cpus(*cpus);
}

PlannedWorker planned(const protocol::WorkerSpec& w) {
  return {w.id, w.name, w.cgroup, std::string(to_string(w.type)), std::string(to_string(w.policy)),
          host_cpus(w.affinity), static_cast<double>(w.start_ms)};
}

}  // namespace

const PlannedWorker* ScenarioPlan::worker(uint32_t id) const {
  auto it = std::find_if(workers.begin(), workers.end(), [&](auto& w) { return w.id == id; });
  return it == workers.end() ? nullptr : &*it;
}

const PlannedPayload* ScenarioPlan::payload(uint32_t id) const {
  auto it = std::find_if(payloads.begin(), payloads.end(), [&](auto& p) { return p.id == id; });
  return it == payloads.end() ? nullptr : &*it;
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

ScenarioPlan scenario_plan(const protocol::Plan& plan) {
  ScenarioPlan out;
  out.name = plan.name;
  out.duration_ms = static_cast<double>(plan.duration_ms);
  out.usable_cpus = host_cpus(plan.usable_cpus);
  for (const auto& c : plan.cgroups) out.cgroups.push_back({c.path, host_cpus(c.cpus)});
  for (const auto& w : plan.workers) out.workers.push_back(planned(w));
  for (const auto& step : plan.steps)
    for (const auto& op : step.ops) {
      if (op.kind == protocol::Op::Kind::add_cgroup) out.cgroups.push_back({op.cgroup, host_cpus(op.cpus)});
      for (const auto& w : op.spawn) out.workers.push_back(planned(w));
    }
  if (plan.scheduler) out.scheduler_path = plan.scheduler->path;
  for (const auto& p : plan.payloads)
    out.payloads.push_back({p.id, p.name, p.path, p.args, p.cgroup, static_cast<double>(p.start_ms)});
  return out;
}

ScenarioPlan parse_plan(const nlohmann::json& plan) {
  protocol::PlanResult parsed = protocol::parse_plan(plan.dump());
  if (!parsed.plan) throw PlanError(parsed.errors.empty() ? "plan: not accepted" : parsed.errors.front());
  return scenario_plan(*parsed.plan);
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

void ScenarioCollector::feed(const protocol::ParsedLine& line) {
  if (auto* error = std::get_if<protocol::ProtocolError>(&line)) protocol_problem(error->message);
  else feed(std::get<protocol::AgentEvent>(line));
}

void ScenarioCollector::feed(const protocol::AgentEvent& event) {
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, protocol::SchedulerEvent>) {
          if (results_.scheduler_events.size() < protocol::kMaxListEntries) results_.scheduler_events.push_back(e);
          else protocol_problem("more than " + std::to_string(protocol::kMaxListEntries) + " scheduler events");
        } else if constexpr (std::is_same_v<T, protocol::ScenarioStarted>) {
          if (results_.started) return protocol_problem("scenario_started came twice (seq " + std::to_string(e.seq) + ")");
          if (e.name != results_.plan.name)
            protocol_problem("scenario_started names scenario \"" + protocol::printable_excerpt(e.name) + "\", the plan \"" +
                             protocol::printable_excerpt(results_.plan.name) + "\"");
          results_.started = e;
        } else if constexpr (std::is_same_v<T, protocol::StepEvent>) {
          if (results_.steps.size() < protocol::kMaxListEntries) results_.steps.push_back(e);
          else protocol_problem("more than " + std::to_string(protocol::kMaxListEntries) + " step events");
        } else if constexpr (std::is_same_v<T, protocol::WorkerReport>) {
          add_report(e);
        } else if constexpr (std::is_same_v<T, protocol::PayloadReport>) {
          add_payload(e);
        } else if constexpr (std::is_same_v<T, protocol::ScenarioDone>) {
          if (results_.done) return protocol_problem("scenario_done came twice (seq " + std::to_string(e.seq) + ")");
          results_.done = e;
        } else if constexpr (std::is_same_v<T, protocol::AgentError>) {
          list(results_.agent_errors, e.message);
        }
      },
      event);
}

void ScenarioCollector::add_report(const protocol::WorkerReport& report) {
  if (++report_events_ > kMaxReports) {
    if (report_events_ == kMaxReports + 1)
      protocol_problem("more than " + std::to_string(kMaxReports) + " worker reports; the rest are ignored");
    return;
  }
  const std::string who = "worker_report for worker " + std::to_string(report.id) + " (\"" +
                          protocol::printable_excerpt(report.name) + "\")";
  const PlannedWorker* planned = results_.plan.worker(report.id);
  if (!planned) return protocol_problem(who + ": no such worker in the plan");
  if (results_.reports.count(report.id)) return protocol_problem(who + " came twice; the first is kept");
  if (report.name != planned->name || report.cgroup != planned->cgroup || report.type != planned->type)
    protocol_problem(who + ": name, cgroup or type differ from the plan's \"" + planned->name + "\" in " +
                     planned->cgroup + " (" + planned->type + ")");
  results_.reports.emplace(report.id, report);
}

void ScenarioCollector::add_payload(const protocol::PayloadReport& report) {
  const std::string who = "payload report for payload " + std::to_string(report.id) + " (\"" +
                          protocol::printable_excerpt(report.name) + "\")";
  const PlannedPayload* planned = results_.plan.payload(report.id);
  if (!planned) return protocol_problem(who + ": no such payload in the plan");
  if (results_.payloads.count(report.id)) return protocol_problem(who + " came twice; the first is kept");
  if (report.name != planned->name) protocol_problem(who + ": the plan names it \"" + planned->name + "\"");
  results_.payloads.emplace(report.id, report);
}

std::string format_cpu_list(std::vector<uint32_t> cpus) {
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus.empty() ? "none" : kvm::format_sorted_cpu_list(cpus);
}

}  // namespace ktstr::cli
