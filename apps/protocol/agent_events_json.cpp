// AgentEvent -> one COM2 line: the writer the agent uses, so every line it sends is one
// parse_agent_line reads back as the same event (tests/unit/protocol/agent_events_test.cpp).
#include "apps/protocol/agent_events.hpp"

#include "kvm/cpu_list.hpp"

namespace ktstr::protocol {

namespace {

using Json = nlohmann::ordered_json;

template <typename T>
Json or_null(const std::optional<T>& value) {
  return value ? Json(*value) : Json(nullptr);
}

Json cpu_list_or_null(const std::optional<std::vector<uint32_t>>& cpus) {
  return cpus ? Json(kvm::format_sorted_cpu_list(*cpus)) : Json(nullptr);
}

Json fields(const BootDone& e) { return {{"uptime_s", e.uptime_s}}; }
Json fields(const PowerOff&) { return Json::object(); }
Json fields(const Heartbeat& e) { return {{"uptime_s", e.uptime_s}}; }
Json fields(const AgentError& e) { return {{"message", e.message}}; }

Json fields(const KernelInfo& e) {
  return {{"release", e.release}, {"version", e.version}, {"machine", e.machine},
          {"cmdline", or_null(e.cmdline)}, {"sched_ext", e.sched_ext}};
}

Json fields(const TopologyReport& e) {
  Json cpus = Json::array();
  for (const auto& c : e.cpus)
    cpus.push_back({{"cpu", c.cpu},
                    {"package", or_null(c.package)},
                    {"die", or_null(c.die)},
                    {"core", or_null(c.core_id)},
                    {"thread_siblings", cpu_list_or_null(c.thread_siblings)},
                    {"llc", cpu_list_or_null(c.llc)},
                    {"llc_level", or_null(c.llc_level)},
                    {"node", or_null(c.node)}});
  return {{"online", cpu_list_or_null(e.online)}, {"possible", cpu_list_or_null(e.possible)}, {"cpus", std::move(cpus)}};
}

Json fields(const SchedulerEvent& e) {
  Json out = {{"state", scheduler_state_name(e.state)}};
  auto put = [&](const char* key, const auto& value) {
    if (value) out[key] = *value;
  };
  put("pid", e.pid);
  put("path", e.path);
  put("after_ms", e.after_ms);
  put("at_ms", e.at_ms);
  put("ops", e.ops);
  put("sched_ext_state", e.sched_ext_state);
  put("status", e.status);
  put("reason", e.reason);
  if (!e.output.empty()) out["output"] = e.output;
  return out;
}

Json fields(const ScenarioStarted& e) {
  return {{"name", e.name}, {"workers", e.workers}, {"usable_cpus", e.usable_cpus}, {"uptime_s", e.uptime_s}};
}

Json fields(const StepEvent& e) {
  return {{"index", e.index}, {"at_ms", e.at_ms}, {"planned_ms", e.planned_ms}, {"errors", e.errors}};
}

Json fields(const WorkerReport& r) { return worker_report_fields(r); }

Json fields(const PayloadReport& r) {
  Json out = {{"id", r.id}, {"name", r.name}};
  if (r.pid) out["pid"] = *r.pid;
  out["started_ms"] = r.started_ms;
  out["ended_ms"] = r.ended_ms;
  if (r.exit_code) out["exit_code"] = *r.exit_code;
  if (r.signal) out["signal"] = *r.signal;
  out["stopped"] = r.stopped;
  if (r.error) out["error"] = *r.error;
  if (!r.output.empty()) out["output"] = r.output;
  return out;
}

Json fields(const ScenarioDone& e) { return {{"wall_ms", e.wall_ms}, {"errors", e.errors}}; }

}  // namespace

nlohmann::ordered_json worker_report_fields(const WorkerReport& r) {
  Json out = {{"id", r.id},
              {"name", r.name},
              {"cgroup", r.cgroup},
              {"type", r.type},
              {"pid", r.pid},
              {"started_ms", r.started_ms},
              {"stopped_ms", r.stopped_ms},
              {"work_units", r.work_units},
              {"cpu_ms", r.cpu_ms},
              {"wall_ms", r.wall_ms},
              {"off_cpu_ms", r.off_cpu_ms},
              {"migrations", r.migrations},
              {"cpus_used", r.cpus_used},
              {"max_gap_ms", r.max_gap_ms},
              {"max_gap_at_ms", or_null(r.max_gap_at_ms)},
              {"max_gap_cpu", or_null(r.max_gap_cpu)},
              {"wake_latency_us", nullptr},
              {"schedstat", nullptr}};
  if (const auto& w = r.wake_latency_us)
    out["wake_latency_us"] = {{"count", w->count}, {"p50", w->p50_us}, {"p99", w->p99_us}, {"max", w->max_us}};
  if (const auto& s = r.schedstat)
    out["schedstat"] = {{"run_ns", s->run_ns}, {"wait_ns", s->wait_ns}, {"timeslices", s->timeslices}};
  const auto& iso = r.isolation;
  out["isolation"] = {{"violations", iso.violations},
                      {"first_cpu", or_null(iso.first_cpu)},
                      {"first_at_ms", or_null(iso.first_at_ms)},
                      {"first_allowed", or_null(iso.first_allowed)}};
  out["exit"] = r.exit_text;
  return out;
}

nlohmann::ordered_json event_fields(const AgentEvent& event) {
  return std::visit([](const auto& e) { return fields(e); }, event);
}

nlohmann::ordered_json to_json(const AgentEvent& event) { return to_json(event, event_seq(event)); }

nlohmann::ordered_json to_json(const AgentEvent& event, uint64_t seq) {
  Json line = {{"event", event_name(event)}, {"seq", seq}};
  const Json fields = event_fields(event);  // named: items() does not keep a temporary alive
  for (const auto& [key, value] : fields.items()) line[key] = value;
  return line;
}

}  // namespace ktstr::protocol
