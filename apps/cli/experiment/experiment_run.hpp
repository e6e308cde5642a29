#pragma once
// Runs an experiment's planned runs with the orchestrator actor (its own actor system),
// filling state.outcomes as each run ends and calling `progress_written` then (the
// command streams experiment.json there). Returns when every run has ended.
#include <atomic>
#include <cstdint>
#include <functional>
#include <ostream>

#include "apps/cli/experiment/experiment_report.hpp"

namespace ktstr::cli {

void run_experiment(ExperimentState& state, const Experiment& x, uint32_t jobs, const std::atomic<bool>* stop,
                    std::ostream& out, const std::function<void()>& progress_written);

}  // namespace ktstr::cli
