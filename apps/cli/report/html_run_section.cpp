#include "apps/cli/report/html_run_section.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "apps/cli/report/json_fields.hpp"
#include "apps/cli/report/junit_report.hpp"
#include "apps/cli/report/timeline_svg.hpp"

namespace ktstr::cli {

namespace {

using nlohmann::json;

constexpr size_t kLegendTasks = 12;

/// "N,L,C,T" -> N*L*C*T, for a run without result (0 when it does not parse).
uint32_t topology_cpus(const std::string& topology) {
  uint64_t product = 1;
  size_t fields = 0, start = 0;
  while (start <= topology.size() && fields < 4) {
    const size_t end = std::min(topology.find(',', start), topology.size());
    const std::string part = topology.substr(start, end - start);
    if (part.empty() || part.size() > 4 || !std::all_of(part.begin(), part.end(), ::isdigit)) return 0;
    product *= std::stoul(part);
    ++fields;
    start = end + 1;
  }
  return fields == 4 && product <= kMaxLanes ? static_cast<uint32_t>(product) : 0;
}

std::string task_legend(const RunTimeline& t) {
  std::map<std::string, double> time_by_task;
  double idle = 0;
  for (const auto& lane : t.lanes)
    for (const auto& r : lane.ran) (r.idle ? idle : time_by_task[r.comm]) += r.to_s - r.from_s;
  if (time_by_task.empty() && idle == 0) return {};
  std::vector<std::pair<std::string, double>> tasks(time_by_task.begin(), time_by_task.end());
  std::stable_sort(tasks.begin(), tasks.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string out = "<ul class=\"tasks\">";
  auto item = [&](const std::string& color, const std::string& name, double s) {
    out += fmt::format("<li><span class=\"swatch\" style=\"background:{}\"></span>{} <span class=\"dim\">{:.1f} CPU-s</span></li>",
                       color, name, s);
  };
  for (size_t i = 0; i < std::min(kLegendTasks, tasks.size()); ++i)
    item(task_color(tasks[i].first, false), html_text(tasks[i].first), tasks[i].second);
  if (tasks.size() > kLegendTasks) out += fmt::format("<li class=\"dim\">and {} more</li>", tasks.size() - kLegendTasks);
  if (idle > 0) item(task_color("", true), "idle", idle);
  return out + "</ul>\n";
}

std::string findings_table(const json& result) {
  std::string rows;
  for (const auto& f : array_field(field(result, "scenario"), "findings")) {
    const std::string verdict = text(f, "verdict");
    if (verdict != "fail" && verdict != "inconclusive") continue;
    const auto at = number(f, "at_ms");
    rows += fmt::format("<tr><td>{}</td><td><span class=\"verdict {}\">{}</span></td><td>{}</td><td>{}</td><td>{}</td>"
                        "<td class=\"message\">{}</td></tr>\n",
                        html_text(text(f, "check")), verdict_class(verdict), html_text(verdict), html_text(text(f, "worker")),
                        html_text(scalar_text(field(f, "cpu"))), at ? fmt::format("{:.0f}", *at) : "", html_text(text(f, "message")));
  }
  if (rows.empty()) return {};
  return "<table class=\"findings\"><thead><tr><th>check</th><th>verdict</th><th>worker</th><th>CPU</th><th>at (ms)</th>"
         "<th>message</th></tr></thead><tbody>\n" + rows + "</tbody></table>\n";
}

std::string run_facts(const json& run, const json& result) {
  const auto& vm = field(run, "vm");
  std::vector<std::string> facts;
  auto add = [&](std::string_view what, const std::string& value) {
    if (!value.empty()) facts.push_back(fmt::format("<span class=\"dim\">{}</span> {}", what, html_text(value)));
  };
  add("scheduler", text(vm, "scheduler", text(field(field(result, "scenario"), "scheduler"), "path")));
  add("topology", text(vm, "topology"));
  add("kernel", text(field(result, "kernel"), "release", text(vm, "kernel")));
  add("scenario", text(field(result, "scenario"), "scenario", text(vm, "scenario")));
  add("host", text(field(run, "where"), "mode"));
  add("state", text(run, "state"));
  const auto& end = field(result, "vm_end");
  if (end.is_object()) add("VM ended", text(end, "how") + (text(end, "detail").empty() ? "" : " (" + text(end, "detail") + ")"));
  if (auto s = number(run, "elapsed_s")) facts.push_back(fmt::format("<span class=\"dim\">elapsed</span> {:.1f} s", *s));
  std::string out = "<p class=\"facts\">";
  for (size_t i = 0; i < facts.size(); ++i) out += (i ? " &middot; " : "") + facts[i];
  return out + "</p>\n";
}

}  // namespace

std::string html_text(std::string_view text) { return xml_escape(text, true); }

const char* verdict_class(std::string_view v) {
  if (v == "pass") return "v-pass";
  if (v == "fail") return "v-fail";
  if (v == "inconclusive") return "v-inconclusive";
  if (v == "skip") return "v-skip";
  if (v == "error") return "v-error";
  return "v-other";
}

std::string run_section(const json& run, size_t number) {
  const auto& result = field(run, "result");
  const std::string name = text(run, "name", fmt::format("run {}", number + 1));
  const std::string verdict = text(run, "verdict", text(result, "verdict", text(run, "state", "pending")));
  std::string out = fmt::format("<section class=\"run\" id=\"run-{}\">\n<h2>{} <span class=\"verdict {}\">{}</span></h2>\n", number,
                                html_text(name), verdict_class(verdict), html_text(verdict));
  out += run_facts(run, result);
  if (field(run, "met").is_boolean())
    out += fmt::format("<p class=\"expectation {}\">{}: {}</p>\n", field(run, "met") == true ? "met" : "unmet",
                       field(run, "met") == true ? "met its expectation" : "did NOT meet its expectation",
                       html_text(text(run, "why")));
  const RunTimeline timeline = run_timeline(result, topology_cpus(text(field(run, "vm"), "topology")));
  out += "<div class=\"timeline-box\">" + timeline_svg(timeline, "timeline of " + name) + "</div>\n";
  if (!result.is_object()) out += "<p class=\"note\">No result: nothing was sampled for this run.</p>\n";
  for (const auto& note : timeline.notes) out += "<p class=\"note\">" + html_text(note) + "</p>\n";
  out += task_legend(timeline);
  out += findings_table(result);
  const auto& reasons = array_field(result, "reasons");
  if (!reasons.empty()) {
    out += "<ul class=\"reasons\">";
    for (const auto& r : reasons) out += "<li>" + html_text(scalar_text(r)) + "</li>";
    out += "</ul>\n";
  }
  return out + "</section>\n";
}

}  // namespace ktstr::cli
