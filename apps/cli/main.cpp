// ktstr-actors: boot real kernels in our own KVM VMM with a declared CPU topology and
// judge the scheduler; `host exec` runs a command inside the nested software-KVM host.
#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "apps/cli/base/environment.hpp"
#include "apps/cli/base/exit_codes.hpp"
#include "apps/cli/base/refusal.hpp"
#include "apps/cli/commands/host_command.hpp"
#include "apps/cli/report/host_probe_report.hpp"
#include "apps/cli/commands/list_command.hpp"
#include "apps/cli/vm/perf_choice.hpp"
#include "apps/cli/commands/kernel_commands.hpp"
#include "apps/cli/commands/run_command.hpp"

using namespace ktstr::cli;

int main(int argc, char** argv) {
  // The one place environment variables are read (base/environment.hpp).
  const Environment env = Environment::from_process();
  CLI::App app{"ktstr-actors: a test harness for Linux process schedulers"};
  app.require_subcommand(1);
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "debug logging");

  RunOptions run;
  std::string json, out_dir, host = "auto";
  auto* run_cmd = app.add_subcommand("run", "boot a kernel with a declared topology and check what the guest sees");
  run_cmd->add_option("--kernel", run.kernel, "bzImage path or cached kernel name (default: cached Debian 6.1)");
  run_cmd->add_option("--topology", run.topology, "NUMA nodes,LLCs,cores per LLC,threads per core")
      ->capture_default_str();
  run_cmd->add_option("--memory", run.memory_mib, "guest memory in MiB")->capture_default_str();
  run_cmd->add_option("--timeout", run.timeout_s, "seconds until the run is ended")->capture_default_str();
  run_cmd->add_option("--json", json, "also write the result as JSON to FILE");
  run_cmd->add_option("--out", out_dir, "directory for logs and results (default: ./ktstr-out/run-<time>-<pid>)");
  run_cmd->add_option("--host", host,
                      "where KVM comes from: auto (/dev/kvm when `host probe` finds it usable, else the nested "
                      "host), kvm (/dev/kvm, refused when it is not usable) or nested")
      ->check(CLI::IsMember({"auto", "kvm", "nested"}))
      ->capture_default_str();
  run_cmd->add_flag("--force-kvm", run.force_kvm,
                    "with --host=kvm: use /dev/kvm even when the probe finds it emulates guests (slow: minutes to boot)");
  run_cmd->add_option("--append", run.append, "extra kernel command-line arguments");
  run_cmd->add_option("--freeze-at", run.freeze_at_s, "freeze every vCPU at T seconds into the run (repeatable)")
      ->check(CLI::NonNegativeNumber);
  run_cmd->add_option("--snapshots", run.snapshots, "take N freeze snapshots spread over the run deadline")
      ->capture_default_str();
  run_cmd->add_option("--freeze-deadline", run.freeze_deadline_s, "seconds for every vCPU to park")
      ->capture_default_str();
  run_cmd->add_option("--stall-timeout", run.stall_timeout_s, "no guest output for S seconds ends the run as a hang (0: off)")
      ->capture_default_str();
  unsigned perf_period_ms = 0;
  auto* perf_period = run_cmd->add_option(
      "--perf-period", perf_period_ms,
      "sample per-vCPU perf counters every MS milliseconds (0: off; default " +
          std::to_string(kDefaultPerfPeriod.count()) + ", off under an emulated host)");

  std::string scheduler, junit;
  run_cmd->add_option("--scenario", run.scenario, "built-in scenario name (see `list`) or scenario file (TOML)");
  run_cmd->add_option("--scheduler", scheduler, "sched_ext scheduler binary to test (its arguments after --)");
  run_cmd->add_option("--junit", junit, "also write the scenario's checks as JUnit XML to FILE");
  run_cmd->add_option("--assert", run.assert_overrides,
                      "KEY=VALUE over the scenario's [assert] (max_gap_ms, fairness_spread_pct, "
                      "throughput_spread_pct, starvation, isolation; repeatable)");

  auto* list_cmd = app.add_subcommand("list", "list the built-in scenarios");
  bool list_json = false;
  list_cmd->add_flag("--json", list_json, "as JSON");

  NestedHostOptions nested;
  std::vector<std::string> writable;
  auto* host_cmd = app.add_subcommand("host", "this host's KVM: probe it, or run a command in the nested software-KVM host");
  host_cmd->require_subcommand(1);
  bool probe_json_out = false;
  std::string probe_device = env.kvm_device.value_or("/dev/kvm");  // as `run` (tests)
  auto* probe_cmd = host_cmd->add_subcommand(
      "probe", "can /dev/kvm run guests? (exit 0 usable, 70 absent, 83 emulated, 84 broken)");
  probe_cmd->add_flag("--json", probe_json_out, "as JSON");
  probe_cmd->add_option("--device", probe_device, "the KVM device to probe")->capture_default_str();
  auto* exec_cmd = host_cmd->add_subcommand("exec", "run a command inside the nested host (/dev/kvm there)");
  exec_cmd->add_option("--timeout", nested.timeout_s, "seconds until the nested host is killed")->capture_default_str();
  exec_cmd->add_option("--memory", nested.memory_mib, "outer guest memory in MiB")->capture_default_str();
  exec_cmd->add_option("--cpus", nested.cpus, "outer guest CPUs")->capture_default_str();
  exec_cmd->add_option("--writable", writable, "directory shared read-write at its own path (repeatable)");
  exec_cmd->add_option("--env", nested.env, "NAME=VALUE for the command (repeatable)");
  auto kernel_commands = add_kernel_commands(app);

  // `host exec [options] -- CMD ARGS...`: everything after "--" is the command, untouched
  // (CLI11 would otherwise read the command's own flags as ours).
  std::vector<std::string> command;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) != "--") continue;
    command.assign(argv + i + 1, argv + argc);
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
  // Logs go to stderr: stdout carries the summary (and, under host exec, the command's output).
  spdlog::set_default_logger(spdlog::stderr_color_mt("ktstr"));
  spdlog::set_level(verbose ? spdlog::level::debug : spdlog::level::info);
  spdlog::set_pattern("[%H:%M:%S.%e] %^%l%$ %v");

  if (list_cmd->parsed()) return list_main(list_json);
  if (run_cmd->parsed()) {
    if (!command.empty() && scheduler.empty()) {
      return refuse(exit_usage, "arguments after -- are the scheduler's: give --scheduler PATH");
    }
    if (perf_period->count() > 0) run.perf_period_ms = perf_period_ms;
    if (!scheduler.empty()) run.scheduler = scheduler;
    run.scheduler_args = command;
    if (!junit.empty()) run.junit = junit;
    if (!json.empty()) run.json = json;
    if (!out_dir.empty()) run.out_dir = out_dir;
    run.host = host == "kvm" ? HostMode::kvm : host == "nested" ? HostMode::nested : HostMode::automatic;
    return run_main(run, env);
  }
  if (auto rc = run_kernel_commands(*kernel_commands, env)) return *rc;
  if (probe_cmd->parsed()) return host_probe_main(probe_device, probe_json_out);
  if (exec_cmd->parsed()) {
    for (const auto& w : writable) nested.writable.emplace_back(w);
    nested.command = command;
    nested.environment = env;
    if (nested.command.empty()) {
      return refuse(exit_usage, "host exec needs a command (host exec [options] -- CMD ARGS...)");
    }
    return host_exec_main(nested);
  }
  return exit_usage;
}
