#include "apps/cli/report/scenario_report.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "apps/cli/verdict/payload_metrics.hpp"

namespace ktstr::cli {

namespace {

using nlohmann::json;

template <class T>
json or_null(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

CgroupSummary& summary_for(std::vector<CgroupSummary>& all, const std::string& path) {
  auto it = std::find_if(all.begin(), all.end(), [&](auto& c) { return c.path == path; });
  if (it != all.end()) return *it;
  all.push_back(CgroupSummary{});
  all.back().path = path;
  return all.back();
}

json worker_json(const protocol::WorkerReport& r, const ScenarioResults& results) {
  // What the agent reported, as the protocol writes it, plus what only the host knows.
  json j = protocol::worker_report_fields(r);
  const PlannedWorker* planned = results.plan.worker(r.id);
  j["policy"] = planned ? json(planned->policy) : json(nullptr);
  j["off_cpu_pct"] = or_null(off_cpu_pct(r));
  return j;
}

/// A planned payload with what the agent reported (null fields: no report) and the
/// metrics its tool's parser found in the output.
json payload_json(const PlannedPayload& planned, const ScenarioResults& results) {
  std::vector<std::string> argv = {planned.program};
  argv.insert(argv.end(), planned.args.begin(), planned.args.end());
  json j = {{"id", planned.id},          {"name", planned.name},   {"argv", argv},
            {"cgroup", planned.cgroup},  {"planned_start_ms", planned.start_ms},
            {"reported", false},         {"pid", nullptr},         {"started_ms", nullptr},
            {"ended_ms", nullptr},       {"wall_s", nullptr},      {"exit_code", nullptr},
            {"signal", nullptr},         {"stopped", nullptr},     {"error", nullptr},
            {"output_tail", json::array()}, {"metrics", json::object()}};
  auto it = results.payloads.find(planned.id);
  if (it == results.payloads.end()) return j;
  const protocol::PayloadReport& r = it->second;
  j["reported"] = true;
  j["pid"] = or_null(r.pid);
  j["started_ms"] = r.started_ms;
  j["ended_ms"] = r.ended_ms;
  j["wall_s"] = (r.ended_ms - r.started_ms) / 1000;
  j["exit_code"] = or_null(r.exit_code);
  j["signal"] = or_null(r.signal);
  j["stopped"] = r.stopped;
  j["error"] = or_null(r.error);
  j["output_tail"] = r.output;
  for (const auto& [name, value] : payload_metrics(planned.program, r.output)) j["metrics"][name] = value;
  return j;
}

json scheduler_event_json(const protocol::SchedulerEvent& e) {
  return {{"state", protocol::scheduler_state_name(e.state)},
          {"at_ms", or_null(e.at_ms)},
          {"after_ms", or_null(e.after_ms)},
          {"pid", or_null(e.pid)},
          {"path", or_null(e.path)},
          {"ops", or_null(e.ops)},
          {"sched_ext_state", or_null(e.sched_ext_state)},
          {"status", or_null(e.status)},
          {"reason", or_null(e.reason)},
          {"output", e.output}};
}

void print_indented(std::ostream& out, const std::string& text, const char* first, const char* rest) {
  std::size_t start = 0;
  bool is_first = true;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out << (is_first ? first : rest) << std::string_view(text).substr(start, end - start) << '\n';
    is_first = false;
    start = end + 1;
  }
}

}  // namespace

std::vector<CgroupSummary> summarize_cgroups(const ScenarioResults& results) {
  std::vector<CgroupSummary> all;
  for (const auto& c : results.plan.cgroups) summary_for(all, c.path).planned_cpus = c.cpus;
  for (const auto& w : results.plan.workers) ++summary_for(all, w.cgroup).planned_workers;
  for (const auto& [id, r] : results.reports) {
    CgroupSummary& s = summary_for(all, r.cgroup);
    ++s.reported_workers;
    s.migrations += r.migrations;
    if (auto pct = off_cpu_pct(r)) {
      if (!s.off_cpu_min_pct || *pct < *s.off_cpu_min_pct) s.off_cpu_min_pct = *pct, s.off_cpu_min_worker = r.name;
      if (!s.off_cpu_max_pct || *pct > *s.off_cpu_max_pct) s.off_cpu_max_pct = *pct, s.off_cpu_max_worker = r.name;
    }
    if (!s.worst_gap_ms || r.max_gap_ms > *s.worst_gap_ms) {
      s.worst_gap_ms = r.max_gap_ms;
      s.worst_gap_at_ms = r.max_gap_at_ms;
      s.worst_gap_cpu = r.max_gap_cpu;
      s.worst_gap_worker = r.name;
    }
    s.work_units_min = std::min(s.work_units_min.value_or(r.work_units), r.work_units);
    s.work_units_max = std::max(s.work_units_max.value_or(r.work_units), r.work_units);
  }
  return all;
}

ScenarioReport make_scenario_report(const ScenarioResults& results, const AssertionThresholds& thresholds) {
  ScenarioReport report;
  report.scenario = results.plan.name;
  report.findings = evaluate(results, thresholds);
  report.verdict = overall_verdict(report.findings);
  report.exit_code = exit_code_for(report.verdict);
  report.cgroups = summarize_cgroups(results);
  for (const auto& planned : results.plan.payloads) {
    auto it = results.payloads.find(planned.id);
    if (it == results.payloads.end()) {
      report.payloads.push_back("payload " + planned.name + ": no report");
      continue;
    }
    const protocol::PayloadReport& r = it->second;
    std::string line = "payload " + planned.name + ": ";
    if (r.error) line += "did not run (" + protocol::printable_excerpt(*r.error, 120) + ")";
    else if (r.stopped) line += "stopped at the scenario's end";
    else if (r.signal) line += fmt::format("signal {}", *r.signal);
    else line += fmt::format("exit {}", r.exit_code.value_or(0));
    line += fmt::format(" after {:.1f} s", (r.ended_ms - r.started_ms) / 1000);
    for (const auto& [name, value] : payload_metrics(planned.program, r.output)) line += fmt::format("; {} {:g}", name, value);
    report.payloads.push_back(std::move(line));
  }
  return report;
}

void print_scenario_summary(std::ostream& out, const ScenarioReport& report) {
  out << "scenario " << protocol::printable_excerpt(report.scenario, 120) << '\n';
  for (const auto& c : report.cgroups) {
    out << "  cgroup " << protocol::printable_excerpt(c.path, 120) << " (cpus "
        << (c.planned_cpus ? format_cpu_list(*c.planned_cpus) : std::string("inherited")) << "): "
        << c.reported_workers << " of " << c.planned_workers << " workers reported\n";
    if (c.reported_workers == 0) continue;
    if (c.off_cpu_min_pct)
      out << fmt::format("    off-CPU {:.1f}% ({}) .. {:.1f}% ({}), spread {:.1f} points\n", *c.off_cpu_min_pct,
                         protocol::printable_excerpt(c.off_cpu_min_worker), *c.off_cpu_max_pct,
                         protocol::printable_excerpt(c.off_cpu_max_worker), *c.off_cpu_max_pct - *c.off_cpu_min_pct);
    out << fmt::format("    worst gap {:.1f} ms ({}{}{})\n", *c.worst_gap_ms, protocol::printable_excerpt(c.worst_gap_worker),
                       c.worst_gap_cpu ? fmt::format(", CPU {}", *c.worst_gap_cpu) : "",
                       c.worst_gap_at_ms ? fmt::format(", at {:.1f} ms", *c.worst_gap_at_ms) : "");
    out << fmt::format("    migrations {}, work units {} .. {}\n", c.migrations, *c.work_units_min,
                       *c.work_units_max);
  }
  for (const auto& f : report.findings) {
    if (f.verdict == Verdict::pass) continue;
    print_indented(out, f.message, fmt::format("{} [{}] ", verdict_name(f.verdict), check_name(f.check)).c_str(),
                   "    ");
  }
  for (const auto& p : report.payloads) out << "  " << p << '\n';
  out << "scenario verdict: " << verdict_name(report.verdict) << '\n';
}

json scenario_report_json(const ScenarioReport& report, const ScenarioResults& results,
                          const AssertionThresholds& thresholds) {
  json findings = json::array();
  for (const auto& f : report.findings)
    findings.push_back({{"check", check_name(f.check)},
                        {"verdict", verdict_name(f.verdict)},
                        {"worker", or_null(f.worker)},
                        {"cgroup", or_null(f.cgroup)},
                        {"cpu", or_null(f.cpu)},
                        {"at_ms", or_null(f.at_ms)},
                        {"message", f.message}});
  json cgroups = json::array();
  for (const auto& c : report.cgroups) {
    json j = {{"path", c.path},
              {"planned_cpus", or_null(c.planned_cpus)},
              {"planned_workers", c.planned_workers},
              {"reported_workers", c.reported_workers},
              {"off_cpu_pct", nullptr},
              {"worst_gap", nullptr},
              {"migrations", c.migrations},
              {"work_units", nullptr}};
    if (c.off_cpu_min_pct)
      j["off_cpu_pct"] = {{"min", *c.off_cpu_min_pct},
                          {"min_worker", c.off_cpu_min_worker},
                          {"max", *c.off_cpu_max_pct},
                          {"max_worker", c.off_cpu_max_worker},
                          {"spread", *c.off_cpu_max_pct - *c.off_cpu_min_pct}};
    if (c.worst_gap_ms)
      j["worst_gap"] = {{"worker", c.worst_gap_worker},
                        {"ms", *c.worst_gap_ms},
                        {"at_ms", or_null(c.worst_gap_at_ms)},
                        {"cpu", or_null(c.worst_gap_cpu)}};
    if (c.work_units_min) j["work_units"] = {{"min", *c.work_units_min}, {"max", *c.work_units_max}};
    cgroups.push_back(std::move(j));
  }
  json workers = json::array();
  for (const auto& [id, r] : results.reports) workers.push_back(worker_json(r, results));
  json missing = json::array();
  for (const PlannedWorker* w : results.missing_workers())
    missing.push_back({{"id", w->id}, {"name", w->name}, {"cgroup", w->cgroup}});
  json events = json::array();
  for (const auto& e : results.scheduler_events) events.push_back(scheduler_event_json(e));
  json payloads = json::array();
  for (const auto& planned : results.plan.payloads) payloads.push_back(payload_json(planned, results));
  json steps = json::array();
  for (const auto& s : results.steps)
    steps.push_back({{"index", s.index},
                     {"planned_ms", s.planned_ms},
                     {"at_ms", s.at_ms},
                     {"late_ms", s.at_ms - s.planned_ms},
                     {"errors", s.errors}});
  return {{"schema", "ktstr-scenario-report/1"},
          {"scenario", report.scenario},
          {"verdict", verdict_name(report.verdict)},
          {"exit_code", report.exit_code},
          {"thresholds",
           {{"starvation", thresholds.starvation},
            {"fairness_spread_pct", thresholds.fairness_spread_pct},
            {"max_gap_ms", thresholds.max_gap_ms},
            {"isolation", thresholds.isolation},
            {"throughput_spread_pct", or_null(thresholds.throughput_spread_pct)},
            {"predicted_stall_pct", thresholds.predicted_stall_pct},
            {"rq_clock_stuck_ms", thresholds.rq_clock_stuck_ms},
            {"imbalance_ms", or_null(thresholds.imbalance_ms)}}},
          {"findings", std::move(findings)},
          {"cgroups", std::move(cgroups)},
          {"workers", std::move(workers)},
          {"missing_workers", std::move(missing)},
          {"payloads", std::move(payloads)},
          {"scheduler", {{"path", or_null(results.plan.scheduler_path)}, {"events", std::move(events)}}},
          {"timing",
           {{"planned_duration_ms", results.plan.duration_ms},
            {"started_uptime_s", results.started ? json(results.started->uptime_s) : json(nullptr)},
            {"wall_ms", results.done ? json(results.done->wall_ms) : json(nullptr)},
            {"steps", std::move(steps)}}},
          {"run",
           {{"started", results.started.has_value()},
            {"finished", results.done.has_value()},
            {"done_errors", results.done ? json(results.done->errors) : json::array()},
            {"agent_errors", results.agent_errors},
            {"protocol_problems", results.protocol_problems}}}};
}

std::string dump_report_json(const json& j) { return j.dump(2, ' ', false, json::error_handler_t::replace); }

}  // namespace ktstr::cli
