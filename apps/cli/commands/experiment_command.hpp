#pragma once
// `ktstr-actors experiment FILE|NAME`: several VMs from one experiment file, run by the
// orchestrator; `experiment --list` shows the built-in ones.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apps/cli/base/environment.hpp"

namespace ktstr::cli {

struct ExperimentOptions {
  std::string experiment;  ///< a file, or a built-in name
  bool list = false;
  std::optional<uint32_t> jobs;
  std::optional<std::filesystem::path> out_dir;
  std::optional<std::filesystem::path> json;
  std::optional<std::filesystem::path> junit;
  std::optional<std::filesystem::path> html;  ///< the visual report (apps/cli/report/html_report.hpp)
  std::string host = "auto";  ///< auto | kvm | nested
  std::vector<std::string> workers;  ///< HOST:PORT of remote workers (with the file's `workers`)
  std::string cert, key, ca;         ///< the pool's client credentials (worker --init-ca)
  std::optional<uint32_t> retry;     ///< times a run its worker lost is run again
  /// The program each VM runs (tests: a stand-in); default: this binary.
  std::optional<std::filesystem::path> runner;
};

struct ExperimentCommand;
std::shared_ptr<ExperimentCommand> add_experiment_command(CLI::App& app);
std::optional<int> run_experiment_command(ExperimentCommand& command, const Environment& env);

int experiment_main(ExperimentOptions options, const Environment& env);

}  // namespace ktstr::cli
