#pragma once
// The checks a scenario run is judged by: pure functions over the collected results
// and the thresholds, each returning findings. A check that found nothing wrong
// returns one pass finding; a check that could not or need not run returns a skip.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apps/cli/scenario/assertion_thresholds.hpp"
#include "apps/cli/verdict/scenario_results.hpp"

namespace ktstr::cli {

/// Ordered by precedence: the overall verdict is the highest of its findings.
enum class Verdict { skip = 0, pass = 1, inconclusive = 2, fail = 3 };
std::string_view verdict_name(Verdict verdict);

/// The last three judge what the host read from guest memory (apps/cli/verdict/monitor_checks.hpp).
/// payload: how the scenario's real programs ended.
enum class CheckKind { starvation, fairness, gap, isolation, throughput, scheduler, run, predicted_stall, rq_clock, imbalance, payload };
inline constexpr CheckKind kAllChecks[] = {CheckKind::starvation,      CheckKind::fairness,  CheckKind::gap,
                                           CheckKind::isolation,       CheckKind::throughput, CheckKind::scheduler,
                                           CheckKind::run,             CheckKind::predicted_stall,
                                           CheckKind::rq_clock,        CheckKind::imbalance, CheckKind::payload};
std::string_view check_name(CheckKind check);

struct Finding {
  CheckKind check = CheckKind::run;
  Verdict verdict = Verdict::pass;
  std::optional<std::string> worker;  ///< worker name (untrusted text)
  std::optional<std::string> cgroup;
  std::optional<uint32_t> cpu;
  std::optional<double> at_ms;  ///< since t0
  std::string message;          ///< one line, names worker, cgroup, CPU and time when known
};

std::vector<Finding> check_starvation(const ScenarioResults& results, const AssertionThresholds& thresholds);
std::vector<Finding> check_fairness(const ScenarioResults& results, const AssertionThresholds& thresholds);
std::vector<Finding> check_gap(const ScenarioResults& results, const AssertionThresholds& thresholds);
std::vector<Finding> check_isolation(const ScenarioResults& results, const AssertionThresholds& thresholds);
std::vector<Finding> check_throughput(const ScenarioResults& results, const AssertionThresholds& thresholds);
std::vector<Finding> check_scheduler(const ScenarioResults& results);
std::vector<Finding> check_run(const ScenarioResults& results);
/// Each payload: passed when it exited 0 or was stopped at the scenario's end; failed when
/// it exited non-zero, a signal ended it or it could not start; missing reports fail once
/// the scenario finished.
std::vector<Finding> check_payloads(const ScenarioResults& results);

/// Every check in kAllChecks order.
std::vector<Finding> evaluate(const ScenarioResults& results, const AssertionThresholds& thresholds);

/// fail > inconclusive > pass > skip; no findings: skip.
Verdict overall_verdict(const std::vector<Finding>& findings);
/// fail 1, inconclusive 2, pass and skip 0 (exit_codes.hpp).
int exit_code_for(Verdict verdict);

/// Off-CPU share of a worker's wall time in %; nullopt when wall_ms is 0.
std::optional<double> off_cpu_pct(const protocol::WorkerReport& report);

}  // namespace ktstr::cli
