#pragma once
// `ktstr-actors host probe|exec` and `ktstr-actors list` on the command line: options
// registered on the CLI11 app and the dispatch, kept out of main.cpp.
#include <CLI/CLI.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apps/cli/base/environment.hpp"

namespace ktstr::cli {

struct HostCommands;
struct ListCommand;

/// Adds the `host` subcommand (probe, exec); the returned object holds the parsed options.
std::shared_ptr<HostCommands> add_host_commands(CLI::App& app, const Environment& env);
/// The exit code when a `host` subcommand was parsed, else nullopt. `after_dashdash`: the
/// command host exec runs.
std::optional<int> run_host_commands(HostCommands& host, const std::vector<std::string>& after_dashdash,
                                     const Environment& env);

std::shared_ptr<ListCommand> add_list_command(CLI::App& app);
std::optional<int> run_list_command(const ListCommand& list);

}  // namespace ktstr::cli
