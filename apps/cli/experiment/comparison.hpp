#pragma once
// Comparing VMs with a baseline: each metric read from a run's result.json, per VM the
// mean over its repeats, the ratio to the baseline's, and with 3 or more runs on both
// sides a spread and Welch's t-test (is the difference more than noise?). A metric worse
// than the baseline by more than the threshold is a "worse" finding.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace ktstr::cli {

struct MetricInfo {
  std::string name;
  std::string unit;
  bool higher_is_better = false;
  std::string meaning;
};

/// Every metric a comparison knows, in report order.
const std::vector<MetricInfo>& metric_infos();
const std::vector<std::string>& known_metrics();

/// Payload metrics are named "payload.<payload name>.<metric>" (e.g. payload.hackbench.time_s),
/// from result.json scenario.payloads[].metrics; a bogo-ops rate is better higher, the rest lower.
inline constexpr std::string_view kPayloadMetricPrefix = "payload.";
/// The payload metrics found in these results, sorted.
std::vector<std::string> payload_metric_names(const std::vector<const nlohmann::json*>& results);

/// A metric of one run's result.json; nullopt when the run has none (no scenario, no workers).
std::optional<double> metric_of(const nlohmann::json& result, const std::string& metric);

struct WelchResult {
  double t = 0;
  double df = 0;
  double p = 1;  ///< two-sided
};
/// Welch's unequal-variances t-test; nullopt with fewer than 2 values on a side or no variance at all.
std::optional<WelchResult> welch_test(const std::vector<double>& a, const std::vector<double>& b);
/// The two-sided p of Student's t with df degrees of freedom (regularized incomplete beta).
double student_t_two_sided_p(double t, double df);

struct MetricComparison {
  std::string metric;
  std::string vm;
  std::vector<double> baseline_values, values;
  double baseline_mean = 0, mean = 0;
  double baseline_stddev = 0, stddev = 0;
  std::optional<double> ratio;         ///< mean / baseline_mean (nullopt: baseline 0)
  std::optional<WelchResult> welch;    ///< with >= 3 runs on each side
  bool significant = false;            ///< welch p < 0.05
  bool worse = false;                  ///< beyond the threshold in the metric's bad direction
  std::string verdict;                 ///< "better", "worse", "same" (within the threshold)
};

struct ComparisonInput {
  std::string vm;                       ///< the VM's name (its repeats share it)
  std::vector<const nlohmann::json*> results;  ///< one per run that produced a result.json
};

/// Every VM but the baseline against it, per metric (those with values on both sides).
std::vector<MetricComparison> compare_vms(const std::vector<ComparisonInput>& vms, const std::string& baseline,
                                          const std::vector<std::string>& metrics, double worse_pct);

nlohmann::json comparison_json(const MetricComparison& c);

}  // namespace ktstr::cli
