#pragma once
// The verdict of one scenario run: human summary and JSON (docs/report-schema.md).
// JUnit XML is in junit_report.hpp.
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/cli/verdict/assertions.hpp"
#include "apps/cli/verdict/scenario_results.hpp"

namespace ktstr::cli {

/// Per-cgroup digest of the worker reports.
struct CgroupSummary {
  std::string path;
  std::optional<std::vector<uint32_t>> planned_cpus;
  std::size_t planned_workers = 0, reported_workers = 0;
  /// Off-CPU % over all reporting workers with wall time (not split by type).
  std::optional<double> off_cpu_min_pct, off_cpu_max_pct;
  std::string off_cpu_min_worker, off_cpu_max_worker;
  std::optional<double> worst_gap_ms, worst_gap_at_ms;
  std::optional<uint32_t> worst_gap_cpu;
  std::string worst_gap_worker;
  uint64_t migrations = 0;
  std::optional<uint64_t> work_units_min, work_units_max;
};

struct ScenarioReport {
  std::string scenario;
  Verdict verdict = Verdict::skip;
  int exit_code = 0;
  std::vector<Finding> findings;
  std::vector<CgroupSummary> cgroups;
  /// One line per payload: how it ended and its metrics ("payload hackbench: exit 0 after 1.8 s; time_s 1.803").
  std::vector<std::string> payloads;
  /// Extra JUnit <property> name/value pairs after the verdict (e.g. how the host ran KVM).
  std::vector<std::pair<std::string, std::string>> properties;
};

/// Plan cgroups in plan order, then cgroups only seen in reports.
std::vector<CgroupSummary> summarize_cgroups(const ScenarioResults& results);

/// Runs every check (evaluate) and digests the results.
ScenarioReport make_scenario_report(const ScenarioResults& results, const AssertionThresholds& thresholds);

/// Per cgroup, then one line per finding that is not pass, then the verdict.
void print_scenario_summary(std::ostream& out, const ScenarioReport& report);

/// The JSON report, schema "ktstr-scenario-report/1" (docs/report-schema.md).
nlohmann::json scenario_report_json(const ScenarioReport& report, const ScenarioResults& results,
                                    const AssertionThresholds& thresholds);

/// Serialises any report JSON; never throws on odd strings (invalid UTF-8 is replaced).
std::string dump_report_json(const nlohmann::json& json);

}  // namespace ktstr::cli
