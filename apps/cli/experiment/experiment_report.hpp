#pragma once
// An experiment's result: result.json's `vms` (each run: its VM's description, where it
// ran, how it ended, whether it met its expectation, its full run result) and
// `comparisons` (each VM against the baseline, per metric); the summary lines; JUnit
// (one testcase per run, one per worse metric when they fail the experiment); the exit
// code: 0 only when every run met its expectation (and nothing was worse when that fails
// it), 1 when one did not, 2 when a run gave no result (lost, interrupted, not started).
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/cli/experiment/comparison.hpp"
#include "apps/cli/experiment/experiment_model.hpp"
#include "apps/cli/experiment/vm_run.hpp"

namespace ktstr::cli {

struct ExperimentState {
  const Experiment* experiment = nullptr;
  std::vector<VmRun> runs;
  std::vector<std::optional<VmOutcome>> outcomes;  ///< index = run; nullopt: not ended yet
  std::string host;                                ///< where the runs ran ("kvm", "nested", ...)
  bool interrupted = false;
  bool finished = false;
};

std::vector<MetricComparison> experiment_comparisons(const ExperimentState& state);
nlohmann::json experiment_json(const ExperimentState& state, const std::vector<MetricComparison>& comparisons);
std::vector<std::string> experiment_summary(const ExperimentState& state, const std::vector<MetricComparison>& comparisons);
std::string experiment_junit(const ExperimentState& state, const std::vector<MetricComparison>& comparisons);
int experiment_exit_code(const ExperimentState& state, const std::vector<MetricComparison>& comparisons);

}  // namespace ktstr::cli
