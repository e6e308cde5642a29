// ktstr-actors: boot real kernels in our own KVM VMM with a declared CPU topology and
// judge the scheduler; `host exec` runs a command inside the nested software-KVM host.
// This file only wires: the environment is read once, each subcommand registers its own
// options (apps/cli/commands/*_cli.hpp, kernel_commands.hpp) and runs when parsed.
#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <string>
#include <string_view>
#include <vector>

#include "apps/cli/base/environment.hpp"
#include "apps/cli/base/exit_codes.hpp"
#include "apps/cli/base/refusal.hpp"
#include "apps/cli/commands/experiment_command.hpp"
#include "apps/cli/commands/host_cli.hpp"
#include "apps/cli/commands/kernel_commands.hpp"
#include "apps/cli/commands/run_cli.hpp"
#include "apps/cli/commands/worker_command.hpp"

using namespace ktstr::cli;

int main(int argc, char** argv) {
  // The one place environment variables are read (base/environment.hpp).
  const Environment env = Environment::from_process();

  CLI::App app{"ktstr-actors: a test harness for Linux process schedulers"};
  app.require_subcommand(1);
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "debug logging");
  auto run = add_run_command(app);
  auto list = add_list_command(app);
  auto host = add_host_commands(app, env);
  auto kernel = add_kernel_commands(app);
  auto experiment = add_experiment_command(app);
  auto worker = add_worker_command(app);

  // Everything after "--" is untouched: the scheduler's arguments (run) or the command
  // (host exec); CLI11 would otherwise read their flags as ours.
  std::vector<std::string> after_dashdash;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) != "--") continue;
    after_dashdash.assign(argv + i + 1, argv + argc);
    argc = i;
    break;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return refuse(exit_usage, std::string(e.what()) + " (see --help)");
  }
  // Logs go to stderr: stdout carries the results (and, under host exec, the command's output).
  spdlog::set_default_logger(spdlog::stderr_color_mt("ktstr"));
  spdlog::set_level(verbose ? spdlog::level::debug : spdlog::level::info);
  spdlog::set_pattern("[%H:%M:%S.%e] %^%l%$ %v");

  if (auto rc = run_list_command(*list)) return *rc;
  if (auto rc = run_run_command(*run, after_dashdash, env)) return *rc;
  if (auto rc = run_kernel_commands(*kernel, env)) return *rc;
  if (auto rc = run_experiment_command(*experiment, env)) return *rc;
  if (auto rc = run_worker_command(*worker, env)) return *rc;
  if (auto rc = run_host_commands(*host, after_dashdash, env)) return *rc;
  return exit_usage;
}
