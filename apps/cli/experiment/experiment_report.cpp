#include "apps/cli/experiment/experiment_report.hpp"

#include <fmt/format.h>

#include "apps/cli/base/exit_codes.hpp"
#include "apps/cli/report/junit_report.hpp"

namespace ktstr::cli {

namespace {

nlohmann::json vm_json(const ExperimentVm& vm) {
  return {{"name", vm.name},
          {"kernel", vm.kernel.empty() ? nlohmann::json(nullptr) : nlohmann::json(vm.kernel)},
          {"topology", vm.topology},
          {"memory_mib", vm.memory_mib ? nlohmann::json(vm.memory_mib) : nlohmann::json(nullptr)},
          {"scheduler", vm.scheduler.empty() ? nlohmann::json("eevdf") : nlohmann::json(vm.scheduler)},
          {"scheduler_args", vm.scheduler_args},
          {"scenario", vm.scenario.empty() ? nlohmann::json(nullptr) : nlohmann::json(vm.scenario)},
          {"repeat", vm.repeat},
          {"faults", vm.faults},
          {"expect", std::string(to_string(vm.expect))},
          {"expect_finding", vm.expect_finding.empty() ? nlohmann::json(nullptr) : nlohmann::json(vm.expect_finding)}};
}

bool fails_on_worse(const ExperimentState& s, const std::vector<MetricComparison>& comparisons) {
  if (!s.experiment->compare || !s.experiment->compare->fail_on_worse) return false;
  for (const auto& c : comparisons)
    if (c.worse) return true;
  return false;
}

}  // namespace

std::vector<MetricComparison> experiment_comparisons(const ExperimentState& s) {
  if (!s.experiment->compare) return {};
  std::vector<ComparisonInput> inputs(s.experiment->vms.size());
  for (size_t v = 0; v < inputs.size(); ++v) inputs[v].vm = s.experiment->vms[v].name;
  for (size_t i = 0; i < s.runs.size(); ++i)
    if (s.outcomes[i] && s.outcomes[i]->result) inputs[s.runs[i].vm].results.push_back(&*s.outcomes[i]->result);
  const auto& c = *s.experiment->compare;
  return compare_vms(inputs, c.baseline, c.metrics, c.worse_pct);
}

nlohmann::json experiment_json(const ExperimentState& s, const std::vector<MetricComparison>& comparisons) {
  const auto& x = *s.experiment;
  nlohmann::json j = {{"schema", 1},
                      {"experiment", {{"name", x.name}, {"file", x.file}, {"description", x.description}}},
                      {"finished", s.finished},
                      {"interrupted", s.interrupted}};
  auto vms = nlohmann::json::array();
  for (size_t i = 0; i < s.runs.size(); ++i) {
    const auto& run = s.runs[i];
    nlohmann::json v = {{"name", run.name},
                        {"vm", vm_json(x.vms[run.vm])},
                        {"repeat", run.repeat},
                        {"where", {{"host", "local"}, {"mode", s.host}, {"out", run.out_dir.string()}}},
                        {"command", run.argv}};
    if (const auto& o = s.outcomes[i]) {
      if (o->where != "local") v["where"] = {{"host", o->where}, {"mode", "remote"}, {"out", run.out_dir.string()}};
      v["attempts"] = o->attempts;
      v["lost"] = o->lost;
      v["state"] = !o->error.empty() ? "not started" : o->interrupted && !o->result ? "interrupted" : "ended";
      v["exit_code"] = o->exit_code;
      v["signal"] = o->signal ? nlohmann::json(o->signal) : nlohmann::json(nullptr);
      v["elapsed_s"] = o->elapsed_s;
      v["verdict"] = o->verdict;
      v["met"] = o->met;
      v["why"] = o->why;
      v["result"] = o->result ? *o->result : nlohmann::json(nullptr);
    } else {
      v["state"] = "pending";
    }
    vms.push_back(std::move(v));
  }
  j["vms"] = std::move(vms);
  auto cmp = nlohmann::json::array();
  for (const auto& c : comparisons) cmp.push_back(comparison_json(c));
  j["comparisons"] = std::move(cmp);
  j["baseline"] = x.compare ? nlohmann::json(x.compare->baseline) : nlohmann::json(nullptr);
  j["exit_code"] = experiment_exit_code(s, comparisons);
  return j;
}

std::vector<std::string> experiment_summary(const ExperimentState& s, const std::vector<MetricComparison>& comparisons) {
  std::vector<std::string> out;
  const auto& x = *s.experiment;
  size_t met = 0;
  for (const auto& o : s.outcomes) met += o && o->met;
  out.push_back(fmt::format("experiment {}: {} of {} run(s) met their expectation{}", x.name, met, s.runs.size(),
                            s.interrupted ? " (interrupted)" : ""));
  for (size_t i = 0; i < s.runs.size(); ++i) {
    const auto& o = s.outcomes[i];
    out.push_back(fmt::format("  {:<24} {:<6} {}", s.runs[i].name, !o ? "?" : o->met ? "met" : "NOT",
                              o ? fmt::format("{} ({:.1f} s{})", o->why, o->elapsed_s, o->where == "local" ? "" : ", " + o->where)
                                : std::string("not ended")));
  }
  if (x.compare) {
    out.push_back(fmt::format("compared with {} (worse: beyond {}%{})", x.compare->baseline, x.compare->worse_pct,
                              x.compare->fail_on_worse ? ", fails the experiment" : ""));
    if (comparisons.empty()) out.push_back("  nothing to compare (no metric on both sides)");
    for (const auto& c : comparisons) {
      std::string line = fmt::format("  {:<16} {:<14} {:>12.4g} vs {:>12.4g}", c.vm, c.metric, c.mean, c.baseline_mean);
      if (c.ratio) line += fmt::format("  x{:.3f}", *c.ratio);
      if (c.welch) line += fmt::format("  p={:.3f}", c.welch->p);
      line += "  " + c.verdict;
      out.push_back(std::move(line));
    }
  }
  out.push_back(fmt::format("exit {}", experiment_exit_code(s, comparisons)));
  return out;
}

std::string experiment_junit(const ExperimentState& s, const std::vector<MetricComparison>& comparisons) {
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n";
  size_t failures = 0, errors = 0;
  std::string cases;
  for (size_t i = 0; i < s.runs.size(); ++i) {
    const auto& o = s.outcomes[i];
    cases += fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3f}\">", xml_escape(s.experiment->name, true),
                         xml_escape(s.runs[i].name, true), o ? o->elapsed_s : 0.0);
    if (!o || !o->result) {
      ++errors;
      cases += "<error message=\"" + xml_escape(o ? o->why : "not ended", true) + "\"/>";
    } else if (!o->met) {
      ++failures;
      cases += "<failure message=\"" + xml_escape(o->why, true) + "\"/>";
    }
    cases += "</testcase>\n";
  }
  if (s.experiment->compare && s.experiment->compare->fail_on_worse)
    for (const auto& c : comparisons) {
      cases += fmt::format("    <testcase classname=\"{}\" name=\"{}\">", xml_escape(s.experiment->name, true),
                           xml_escape(c.vm + " " + c.metric + " vs " + s.experiment->compare->baseline, true));
      if (c.worse) {
        ++failures;
        cases += "<failure message=\"" +
                 xml_escape(fmt::format("{:.4g} against {:.4g}: worse beyond {}%", c.mean, c.baseline_mean,
                                        s.experiment->compare->worse_pct),
                            true) +
                 "\"/>";
      }
      cases += "</testcase>\n";
    }
  xml += fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\">\n",
                     xml_escape(s.experiment->name, true),
                     s.runs.size() + (s.experiment->compare && s.experiment->compare->fail_on_worse ? comparisons.size() : 0),
                     failures, errors);
  xml += cases + "  </testsuite>\n</testsuites>\n";
  return xml;
}

int experiment_exit_code(const ExperimentState& s, const std::vector<MetricComparison>& comparisons) {
  bool unmet = false, lost = false;
  for (const auto& o : s.outcomes) {
    if (!o || !o->result || o->interrupted) lost = true;  // a run stopped by the experiment's stop proves nothing
    else if (!o->met) unmet = true;
  }
  if (unmet || fails_on_worse(s, comparisons)) return exit_fail;
  if (lost || s.interrupted) return exit_inconclusive;
  return exit_pass;
}

}  // namespace ktstr::cli
