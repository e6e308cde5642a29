#include "apps/cli/commands/scenario_run.hpp"

#include <unistd.h>

#include <cstdlib>

#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "apps/cli/verdict/assertions.hpp"
#include "apps/cli/base/exit_codes.hpp"
#include "apps/cli/guest/guest_image.hpp"
#include "apps/cli/report/host_probe_report.hpp"
#include "apps/cli/report/junit_report.hpp"
#include "apps/cli/scenario/scenario_catalog.hpp"
#include "apps/cli/scenario/scenario_plan.hpp"
#include "apps/cli/report/scenario_report.hpp"
#include "apps/cli/verdict/scenario_results.hpp"
#include "apps/cli/guest/shared_libraries.hpp"
#include "apps/cli/guest/payload_program.hpp"
#include "apps/cli/base/command_words.hpp"
#include "apps/protocol/guest_paths.hpp"

namespace ktstr::cli {

namespace fs = std::filesystem;

namespace {

constexpr unsigned kSchedulerEnableTimeoutMs = 10000;
static_assert(protocol::kSchedulerEnableTimeoutMs.contains(kSchedulerEnableTimeoutMs),
              "the agent rejects this enable_timeout_ms");
constexpr std::size_t kMaxReasonLines = 20;

fs::path checked_scheduler(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw ScenarioInputError(exit_scheduler, "scheduler " + path.string() + " does not exist");
  if (!fs::is_regular_file(path, ec))
    throw ScenarioInputError(exit_scheduler, "scheduler " + path.string() + " is not a regular file");
  if (::access(path.c_str(), X_OK) != 0)
    throw ScenarioInputError(exit_scheduler, "scheduler " + path.string() + " is not executable");
  try {
    (void)program_dependencies(path);  // every library it needs must be there to copy
  } catch (const ProgramDependencyError& e) {
    throw ScenarioInputError(exit_scheduler, std::string("scheduler unusable: ") + e.what());
  }
  return fs::absolute(path);
}

// The same range a scenario file's [assert] has (assertion_thresholds.hpp).
double number_value(const ThresholdRange& range, const std::string& value) {
  try {
    std::size_t used = 0;
    double v = std::stod(value, &used);
    if (used == value.size() && v >= range.min && v <= range.max) return v;
  } catch (const std::exception&) {
  }
  throw ScenarioInputError(exit_usage, fmt::format("--assert {}={}: expected a number in {:g}..{:.0f}", range.name,
                                                   value, range.min, range.max));
}

bool bool_value(const std::string& key, const std::string& value) {
  if (value == "true" || value == "1") return true;
  if (value == "false" || value == "0") return false;
  throw ScenarioInputError(exit_usage, "--assert " + key + "=" + value + ": expected true or false");
}

void apply_override(AssertionThresholds& t, const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos) throw ScenarioInputError(exit_usage, "--assert " + text + ": expected KEY=VALUE");
  const std::string key = text.substr(0, eq), value = text.substr(eq + 1);
  if (key == kMaxGapMsRange.name) t.max_gap_ms = number_value(kMaxGapMsRange, value);
  else if (key == kFairnessSpreadRange.name) t.fairness_spread_pct = number_value(kFairnessSpreadRange, value);
  else if (key == kThroughputSpreadRange.name) t.throughput_spread_pct = number_value(kThroughputSpreadRange, value);
  else if (key == kPredictedStallRange.name) t.predicted_stall_pct = number_value(kPredictedStallRange, value);
  else if (key == kRqClockStuckRange.name) t.rq_clock_stuck_ms = number_value(kRqClockStuckRange, value);
  else if (key == kImbalanceRange.name) t.imbalance_ms = number_value(kImbalanceRange, value);
  else if (key == "starvation") t.starvation = bool_value(key, value);
  else if (key == "isolation") t.isolation = bool_value(key, value);
  else
    throw ScenarioInputError(exit_usage, "--assert " + key + ": unknown check (max_gap_ms, fairness_spread_pct, "
                                         "throughput_spread_pct, starvation, isolation, predicted_stall_pct, "
                                         "rq_clock_stuck_ms, imbalance_ms)");
}

/// The scenario `run --payload` runs when no --scenario is given.
Scenario payload_only_scenario() {
  Scenario s;
  s.file = "--payload";
  s.name = "payload";
  s.description = "the --payload programs alone";
  s.duration_ms = kPayloadOnlyDurationMs;
  s.where = {"--payload", 0, ""};
  return s;
}

/// Each --payload command line as a payload of the scenario (the agent's cgroup, from t0).
void add_command_line_payloads(Scenario& scenario, const std::vector<std::string>& command_lines) {
  for (const auto& text : command_lines) {
    auto split = split_command(text);
    if (!split.error.empty()) throw ScenarioInputError(exit_payload, "--payload \"" + text + "\": " + split.error);
    if (split.words.empty() || split.words[0].empty())
      throw ScenarioInputError(exit_payload, "--payload \"" + text + "\": no program");
    if (split.words.size() - 1 > protocol::kMaxPayloadArgs)
      throw ScenarioInputError(exit_payload, "--payload " + split.words[0] + ": " + std::to_string(split.words.size() - 1) +
                                                 " arguments, at most " + std::to_string(protocol::kMaxPayloadArgs));
    for (const auto& w : split.words)
      if (w.size() > protocol::kMaxPayloadArgBytes)
        throw ScenarioInputError(exit_payload, "--payload " + split.words[0] + ": an argument longer than " +
                                                   std::to_string(protocol::kMaxPayloadArgBytes) + " bytes");
    PayloadDecl decl;
    decl.command = std::move(split.words);
    decl.where = {"--payload", 0, ""};
    scenario.payloads.push_back(std::move(decl));
  }
  if (scenario.payloads.size() > protocol::kMaxPayloads)
    throw ScenarioInputError(exit_payload, std::to_string(scenario.payloads.size()) + " payloads, at most " +
                                               std::to_string(protocol::kMaxPayloads));
}

/// Every payload's program found on the host and checked, with where it lands in the guest.
std::vector<GuestPayload> resolve_payloads(const Scenario& scenario) {
  std::vector<GuestPayload> out;
  const char* path_env = std::getenv("PATH");
  for (size_t i = 0; i < scenario.payloads.size(); ++i) {
    const PayloadDecl& decl = scenario.payloads[i];
    try {
      PayloadProgram program = resolve_payload_program(decl.command.at(0), decl.base_dir, path_env ? path_env : "");
      out.push_back({protocol::guest_payload_path(i, decl.command.at(0)), program.host, std::move(program.libraries)});
    } catch (const PayloadProgramError& e) {
      const std::string where = decl.where.line ? decl.where.file + ":" + std::to_string(decl.where.line) + ": " : "";
      throw ScenarioInputError(exit_payload, where + e.what());
    }
  }
  return out;
}

}  // namespace

std::optional<PreparedScenario> prepare_scenario(const RunOptions& options, const kvm::Topology& topology) {
  if (options.scenario.empty() && !options.scheduler && options.payloads.empty()) {
    if (!options.assert_overrides.empty())
      throw ScenarioInputError(exit_usage, "--assert applies to a scenario: give --scenario or --scheduler");
    return std::nullopt;
  }
  PreparedScenario prepared;
  std::optional<protocol::SchedulerSpec> in_plan;
  if (options.scheduler) {
    prepared.scheduler = checked_scheduler(*options.scheduler);
    // The agent's plan bounds (apps/protocol/plan_limits.hpp): refused here, not in the guest.
    if (guest_scheduler_path(*prepared.scheduler).size() > protocol::kMaxPlanString)
      throw ScenarioInputError(exit_scheduler, "scheduler file name " + prepared.scheduler->filename().string() +
                                                   " is longer than the guest accepts (" +
                                                   std::to_string(protocol::kMaxPlanString) + " bytes with its directory)");
    if (options.scheduler_args.size() > protocol::kMaxSchedulerArgs)
      throw ScenarioInputError(exit_usage, std::to_string(options.scheduler_args.size()) +
                                               " scheduler arguments after --, at most " +
                                               std::to_string(protocol::kMaxSchedulerArgs));
    for (const auto& a : options.scheduler_args)
      if (a.size() > protocol::kMaxSchedulerArgBytes)
        throw ScenarioInputError(exit_usage, "a scheduler argument after -- is longer than " +
                                                 std::to_string(protocol::kMaxSchedulerArgBytes) + " bytes");
    in_plan = protocol::SchedulerSpec{guest_scheduler_path(*prepared.scheduler), options.scheduler_args,
                              kSchedulerEnableTimeoutMs};
  }
  try {
    if (options.scenario.empty() && !options.payloads.empty()) prepared.scenario = payload_only_scenario();
    else prepared.scenario = resolve_scenario(options.scenario.empty() ? kDefaultScenario : options.scenario);
    add_command_line_payloads(prepared.scenario, options.payloads);
    prepared.payloads = resolve_payloads(prepared.scenario);
    prepared.plan = make_plan(prepared.scenario, topology, in_plan);
  } catch (const ScenarioError& e) {
    throw ScenarioInputError(exit_scenario, e.what());
  }
  for (const auto& o : options.assert_overrides) apply_override(prepared.scenario.thresholds, o);
  return prepared;
}

unsigned scenario_extra_seconds(const PreparedScenario& prepared) {
  unsigned extra = static_cast<unsigned>((prepared.scenario.duration_ms + 999) / 1000);
  if (prepared.scheduler) extra += kSchedulerEnableTimeoutMs / 1000;
  return extra;
}

void judge_scenario(const PreparedScenario& prepared, const RunObservation& obs, RunReport& report,
                    const std::optional<fs::path>& junit, bool fail_on_skip) {
  ScenarioCollector collector(parse_plan(prepared.plan));  // our own plan: cannot be malformed
  for (const auto& event : obs.scenario_events) collector.feed(event);
  for (const auto& problem : obs.protocol_errors) collector.protocol_problem(problem);
  if (obs.scenario_events_truncated) collector.protocol_problem("more scenario events than the host keeps");
  const auto& thresholds = prepared.scenario.thresholds;
  ScenarioResults results = collector.results();
  results.monitor = obs.finished.monitor;
  ScenarioReport scenario = make_scenario_report(results, thresholds);
  if (report.json.contains("host")) scenario.properties = host_properties(report.json["host"]);

  std::ostringstream summary;
  print_scenario_summary(summary, scenario);
  report.scenario_summary = summary.str();
  report.json["scenario"] = scenario_report_json(scenario, results, thresholds);
  if (report.verdict == "pass") {
    report.verdict = std::string(verdict_name(scenario.verdict));
    report.exit_code = scenario.exit_code;
    if (scenario.verdict == Verdict::skip && fail_on_skip) report.exit_code = exit_skip;
  }
  for (const auto& f : scenario.findings)
    if (f.verdict != Verdict::pass && f.verdict != Verdict::skip && report.reasons.size() < kMaxReasonLines)
      report.reasons.push_back(f.message);
  report.json["verdict"] = report.verdict;
  report.json["exit_code"] = report.exit_code;
  if (junit) {
    std::ofstream out(*junit);
    out << junit_xml(scenario);
    if (!out) spdlog::error("cannot write {}", junit->string());
  }
}

}  // namespace ktstr::cli
