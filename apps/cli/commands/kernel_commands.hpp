#pragma once
// `ktstr-actors kernel build|list|inspect`: registration on the CLI11 app and dispatch, kept out
// of main.cpp.
#include <CLI/CLI.hpp>

#include <memory>
#include <optional>

#include "apps/cli/base/environment.hpp"

namespace ktstr::cli {

struct KernelCommands;

/// Adds the `kernel` subcommand; the returned object holds the parsed options.
std::shared_ptr<KernelCommands> add_kernel_commands(CLI::App& app);

/// The exit code when a `kernel` subcommand was parsed, else nullopt.
std::optional<int> run_kernel_commands(const KernelCommands& commands, const Environment& env);

}  // namespace ktstr::cli
