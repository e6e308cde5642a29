#include "apps/cli/report/html_report.hpp"

#include <fmt/format.h>

#include "apps/cli/report/html_run_section.hpp"
#include "apps/cli/report/html_style.hpp"
#include "apps/cli/report/json_fields.hpp"

namespace ktstr::cli {

namespace {

using nlohmann::json;

std::string number_cell(std::optional<double> v) { return v ? fmt::format("{:.4g}", *v) : "&ndash;"; }

/// "mean ± stddev (n)" of one side of a comparison.
std::string side_cell(const json& c, const char* mean, const char* stddev, const char* values) {
  const auto m = number(c, mean);
  const auto sd = number(c, stddev);
  const size_t n = array_field(c, values).size();
  std::string out = number_cell(m);
  if (sd && n >= 2) out += fmt::format(" &plusmn; {:.3g}", *sd);
  if (n) out += fmt::format(" <span class=\"dim\">({})</span>", n);
  return out;
}

const char* comparison_class(const std::string& verdict) {
  if (verdict == "worse") return "v-fail";
  if (verdict == "better") return "v-pass";
  return "v-same";
}

std::string comparisons_section(const json& x) {
  const auto& list = array_field(x, "comparisons");
  const std::string baseline = text(x, "baseline");
  std::string out = "<section id=\"comparisons\">\n<h2>Comparison";
  out += baseline.empty() ? "</h2>\n" : " with baseline " + html_text(baseline) + "</h2>\n";
  if (list.empty())
    return out + (baseline.empty() ? "<p class=\"note\">No comparison: the experiment has no [compare].</p>\n"
                                   : "<p class=\"note\">Nothing compared: no metric has values on both sides.</p>\n") +
           "</section>\n";
  out += "<table class=\"comparisons\"><thead><tr><th>VM</th><th>metric</th><th>baseline</th><th>this VM</th><th>ratio</th>"
         "<th>Welch p</th><th>verdict</th></tr></thead><tbody>\n";
  for (const auto& c : list) {
    const std::string verdict = text(c, "verdict");
    const auto ratio = number(c, "ratio");
    const auto p = number(field(c, "welch"), "p");
    out += fmt::format("<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
                       "<td class=\"num\">{}</td><td><span class=\"verdict {}\">{}</span></td></tr>\n",
                       html_text(text(c, "vm")), html_text(text(c, "metric")),
                       side_cell(c, "baseline_mean", "baseline_stddev", "baseline_values"),
                       side_cell(c, "mean", "stddev", "values"), ratio ? fmt::format("&times;{:.3f}", *ratio) : "&ndash;",
                       p ? fmt::format("{:.3f}", *p) : "&ndash;", comparison_class(verdict), html_text(verdict));
  }
  return out + "</tbody></table>\n</section>\n";
}

std::string runs_table(const json& vms) {
  std::string out = "<section id=\"runs\">\n<h2>Runs</h2>\n<table class=\"runs\"><thead><tr><th>run</th><th>scheduler</th>"
                    "<th>topology</th><th>state</th><th>verdict</th><th>expectation</th><th>elapsed</th></tr></thead><tbody>\n";
  size_t i = 0;
  for (const auto& run : vms) {
    const auto& vm = field(run, "vm");
    const std::string verdict = text(run, "verdict", text(field(run, "result"), "verdict"));
    const auto& met = field(run, "met");
    const auto elapsed = number(run, "elapsed_s");
    out += fmt::format("<tr><td><a href=\"#run-{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td><span class=\"verdict {}\">{}</span>"
                       "</td><td class=\"{}\">{}</td><td class=\"num\">{}</td></tr>\n",
                       i, html_text(text(run, "name", fmt::format("run {}", i + 1))), html_text(text(vm, "scheduler")),
                       html_text(text(vm, "topology")), html_text(text(run, "state")), verdict_class(verdict),
                       html_text(verdict), met.is_boolean() ? (met == true ? "met" : "unmet") : "",
                       met.is_boolean() ? (met == true ? "met" : "NOT met: " + html_text(text(run, "why"))) : "",
                       elapsed ? fmt::format("{:.1f} s", *elapsed) : "");
    ++i;
  }
  return out + "</tbody></table>\n</section>\n";
}

std::string header(const json& x) {
  const auto& e = field(x, "experiment");
  const std::string name = text(e, "name", "experiment");
  std::string out = fmt::format("<header><h1>{}</h1>\n", html_text(name));
  if (!text(e, "description").empty()) out += "<p>" + html_text(text(e, "description")) + "</p>\n";
  std::string meta;
  if (!text(e, "file").empty()) meta += "<span class=\"dim\">file</span> " + html_text(text(e, "file")) + " &middot; ";
  if (auto code = number(x, "exit_code")) meta += fmt::format("<span class=\"dim\">exit</span> {:.0f}", *code);
  out += "<p class=\"facts\">" + meta + "</p>\n";
  if (field(x, "interrupted") == true || field(x, "finished") != true)
    out += fmt::format("<p class=\"banner\">Partial result: the experiment {}; runs that had not ended are shown as such.</p>\n",
                       field(x, "interrupted") == true ? "was interrupted" : "had not finished when this page was written");
  return out + "</header>\n";
}

}  // namespace

std::string experiment_html(const json& x) {
  const std::string name = text(field(x, "experiment"), "name", "experiment");
  std::string page = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                     // Nothing may be loaded or run: the page is complete as written.
                     "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
                     "<meta name=\"generator\" content=\"ktstr-actors\">\n";
  page += "<title>ktstr-actors: " + html_text(name) + "</title>\n<style>" + std::string(kReportCss) + "</style></head><body>\n";
  page += header(x);
  const auto& vms = array_field(x, "vms");
  page += runs_table(vms);
  // A single run's page has nothing to compare; an experiment's says why it has no table.
  if (vms.size() > 1 || !array_field(x, "comparisons").empty() || !text(x, "baseline").empty()) page += comparisons_section(x);
  page += std::string(kLegendHtml);
  size_t i = 0;
  for (const auto& run : vms) page += run_section(run, i++);
  page += "<footer>ktstr-actors report &middot; drawn from the result JSON alone</footer>\n</body></html>\n";
  return page;
}

std::string run_html(const json& result, std::string_view name) {
  const auto& d = field(result, "declared");
  json vm = {{"scheduler", text(field(field(result, "scenario"), "scheduler"), "path", "built-in")}};
  if (field(d, "numa_nodes").is_number() && field(d, "llcs").is_number() && field(d, "cores_per_llc").is_number() &&
      field(d, "threads_per_core").is_number())
    vm["topology"] = fmt::format("{},{},{},{}", field(d, "numa_nodes").dump(), field(d, "llcs").dump(),
                                 field(d, "cores_per_llc").dump(), field(d, "threads_per_core").dump());
  json run = {{"name", std::string(name)}, {"state", "ended"}, {"result", result}, {"vm", std::move(vm)}};
  if (const auto& v = field(result, "verdict"); v.is_string()) run["verdict"] = v;
  if (auto s = number(field(result, "vm_end"), "elapsed_s")) run["elapsed_s"] = *s;
  json x = {{"experiment", {{"name", std::string(name)}}},
            {"finished", true},
            {"interrupted", false},
            {"vms", json::array({std::move(run)})},
            {"comparisons", json::array()},
            {"baseline", nullptr}};
  if (auto code = number(result, "exit_code")) x["exit_code"] = *code;
  return experiment_html(x);
}

}  // namespace ktstr::cli
