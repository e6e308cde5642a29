#pragma once
// `ktstr-actors run` on the command line: its options, registered on the CLI11 app, and
// the dispatch to run_main. Kept out of main.cpp, which only wires subcommands.
#include <CLI/CLI.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apps/cli/base/environment.hpp"

namespace ktstr::cli {

struct RunCommand;

/// Adds the `run` subcommand; the returned object holds the parsed options.
std::shared_ptr<RunCommand> add_run_command(CLI::App& app);

/// The exit code when `run` was parsed, else nullopt. `after_dashdash`: the words after
/// "--", the scheduler's own arguments.
std::optional<int> run_run_command(RunCommand& run, const std::vector<std::string>& after_dashdash,
                                   const Environment& env);

}  // namespace ktstr::cli
