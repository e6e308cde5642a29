#pragma once
// A scenario inside `run`: resolved and planned before anything boots (bad input gets
// its exit code at once), judged from the agent's events after the VM ended.
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "apps/cli/base/run_options.hpp"
#include "apps/cli/guest/guest_image.hpp"
#include "apps/cli/report/run_report.hpp"
#include "apps/cli/vm/run_vm.hpp"
#include "apps/cli/scenario/scenario_model.hpp"
#include "kvm/topology.hpp"

namespace ktstr::cli {

/// Bad scenario or scheduler input: the exit code and the one line to print.
struct ScenarioInputError : std::runtime_error {
  ScenarioInputError(int code, const std::string& what) : std::runtime_error(what), exit_code(code) {}
  int exit_code;
};

struct PreparedScenario {
  Scenario scenario;
  nlohmann::json plan;
  std::optional<std::filesystem::path> scheduler;  ///< host path of the scheduler under test
  std::vector<GuestPayload> payloads;               ///< the plan's payloads, in plan order, resolved on the host
};

/// The default scenario when only --scheduler is given.
inline constexpr const char* kDefaultScenario = "steady";

/// nullopt when the run has neither --scenario, --scheduler nor --payload. --payload alone
/// (or with --scheduler) runs a payload-only scenario ("payload": no workers, ends with its
/// payloads, at most kPayloadOnlyDurationMs); with --scenario the payloads run beside its
/// workers. Throws ScenarioInputError (exit_payload for a payload that cannot run).
std::optional<PreparedScenario> prepare_scenario(const RunOptions& options, const kvm::Topology& topology);

/// Seconds the run needs beyond booting: the scenario's duration plus the scheduler's
/// enable deadline.
unsigned scenario_extra_seconds(const PreparedScenario& prepared);

/// Judges the scenario from the agent's events and folds the verdict into the run
/// report (a run that already failed keeps its verdict; the scenario's evidence is added);
/// the human summary goes to report.scenario_summary, the JUnit XML to `junit` if given.
/// `fail_on_skip`: a skipped scenario exits exit_skip instead of exit_pass.
void judge_scenario(const PreparedScenario& prepared, const RunObservation& obs, RunReport& report,
                    const std::optional<std::filesystem::path>& junit, bool fail_on_skip = false);

}  // namespace ktstr::cli
