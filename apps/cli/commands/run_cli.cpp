#include "apps/cli/commands/run_cli.hpp"

#include "apps/cli/base/exit_codes.hpp"
#include "apps/cli/base/refusal.hpp"
#include "apps/cli/base/run_options.hpp"
#include "apps/cli/commands/run_command.hpp"
#include "apps/cli/vm/perf_choice.hpp"

namespace ktstr::cli {

struct RunCommand {
  CLI::App* command = nullptr;
  RunOptions options;
  std::string json, out_dir, host = "auto", scheduler, junit, html, system_map;
  unsigned perf_period_ms = 0;
  CLI::Option* perf_period = nullptr;
  CLI::Option* scenario = nullptr;
};

std::shared_ptr<RunCommand> add_run_command(CLI::App& app) {
  auto r = std::make_shared<RunCommand>();
  RunOptions& run = r->options;
  auto* cmd = app.add_subcommand("run", "boot a kernel with a declared topology and check what the guest sees");
  r->command = cmd;
  cmd->add_option("--kernel", run.kernel, "bzImage path or cached kernel name (default: cached Debian 6.1)");
  cmd->add_option("--topology", run.topology, "NUMA nodes,LLCs,cores per LLC,threads per core")->capture_default_str();
  cmd->add_option("--memory", run.memory_mib, "guest memory in MiB")->capture_default_str();
  cmd->add_option("--timeout", run.timeout_s, "seconds until the run is ended")->capture_default_str();
  cmd->add_option("--json", r->json, "also write the result as JSON to FILE");
  cmd->add_option("--out", r->out_dir, "directory for logs and results (default: ./ktstr-out/run-<time>-<pid>)");
  cmd->add_option("--host", r->host,
                  "where KVM comes from: auto (/dev/kvm when `host probe` finds it usable, else the nested "
                  "host), kvm (/dev/kvm, refused when it is not usable) or nested")
      ->check(CLI::IsMember({"auto", "kvm", "nested"}))
      ->capture_default_str();
  cmd->add_flag("--force-kvm", run.force_kvm,
                "with --host=kvm: use /dev/kvm even when the probe finds it emulates guests (slow: minutes to boot)");
  cmd->add_option("--append", run.append, "extra kernel command-line arguments");
  cmd->add_option("--freeze-at", run.freeze_at_s,
                  "freeze every vCPU at T seconds into the run, before its deadline (repeatable)");
  cmd->add_option("--snapshots", run.snapshots, "take N freeze snapshots (at most 1000) spread over --timeout")
      ->capture_default_str();
  cmd->add_option("--freeze-deadline", run.freeze_deadline_s, "seconds for every vCPU to park")->capture_default_str();
  cmd->add_option("--stall-timeout", run.stall_timeout_s, "no guest output for S seconds ends the run as a hang (0: off)")
      ->capture_default_str();
  r->perf_period = cmd->add_option("--perf-period", r->perf_period_ms,
                                   "sample per-vCPU perf counters every MS milliseconds (0: off; default " +
                                       std::to_string(kDefaultPerfPeriod.count()) + ", off under an emulated host)");
  cmd->add_option("--monitor-period", run.monitor_period_ms,
                  "read every CPU's runqueue from guest memory every MS milliseconds (0: off)")
      ->capture_default_str();
  cmd->add_option("--system-map", r->system_map,
                  "the kernel's System.map (default: System.map[.xz] beside the kernel, else the kernel's own "
                  "kallsyms)");
  cmd->add_option("--watch", run.watches,
                  "watch a kernel data word, SYMBOL[+OFFSET][:LEN][,freeze] (LEN 1/2/4/8, default 8; at most 3): "
                  "each change is a timeline event, and with ,freeze a snapshot");
  cmd->add_option("--hardware-watchpoints", run.hardware_watchpoints,
                  "on: the exit kind and the --watch words are also hardware watchpoints (debug registers) on every "
                  "vCPU, catching a write the instant it happens with the writer's rip; where they do not fire (the "
                  "nested software-KVM host) or KVM refuses them, the run says so and relies on polling (every 10 ms)")
      ->check(CLI::IsMember({"on", "off"}))
      ->default_str("on");
  cmd->add_option("--fault", run.faults,
                  "inject a fault from the host at AT s after VM start (repeatable; recorded in result.json faults; "
                  "a bad one exits 87): vcpu_stall:VCPU@AT+SECONDS parks that vCPU alone for SECONDS, the others "
                  "running on; vcpu_jitter:VCPU@AT+SECONDS/PERIOD_MS:PAUSE_MS parks it PAUSE_MS every PERIOD_MS for "
                  "SECONDS; kick_loss:VCPU@AT+COUNT makes it ignore its next COUNT kicks; nmi:VCPU@AT injects an NMI "
                  "(KVM_NMI); guest_write:SYMBOL[+OFF][:LEN]=VALUE@AT stores VALUE (LEN 1, 2, 4 or 8 bytes, default 8) "
                  "into that kernel word through the monitor, e.g. guest_write:scx_watchdog_timeout=1@20 "
                  "(docs/experiments.md, Faults)");
  r->scenario = cmd->add_option("--scenario", run.scenario, "built-in scenario name (see `list`) or scenario file (TOML)");
  cmd->add_flag("--fail-on-skip", run.fail_on_skip,
                "a skipped scenario (e.g. no sched_ext in the kernel) exits 3 instead of 0, so CI cannot pass "
                "while testing nothing");
  cmd->add_option("--scheduler", r->scheduler, "sched_ext scheduler binary to test (its arguments after --)");
  cmd->add_option("--payload", run.payloads,
                  "run a real program in the guest (repeatable), as a command line: \"hackbench -g 4 -l 200\" "
                  "(quotes as in sh); the program is found in PATH or by path, copied into the guest with its shared "
                  "libraries; beside the --scenario's workers, or alone (then the run ends when the payloads end, at "
                  "most 60 s); its exit code, last output and metrics (hackbench, stress-ng --metrics-brief, "
                  "cyclictest) are in result.json scenario.payloads; exit 88 when it cannot run");
  cmd->add_option("--junit", r->junit, "also write the scenario's checks as JUnit XML to FILE");
  cmd->add_option("--html", r->html, "also write a self-contained HTML page with the run's per-CPU timeline to FILE");
  cmd->add_option("--assert", run.assert_overrides,
                  "KEY=VALUE over the scenario's [assert] (max_gap_ms, fairness_spread_pct, "
                  "throughput_spread_pct, starvation, isolation, predicted_stall_pct, rq_clock_stuck_ms, "
                  "imbalance_ms; repeatable)");
  return r;
}

std::optional<int> run_run_command(RunCommand& r, const std::vector<std::string>& after_dashdash,
                                   const Environment& env) {
  if (!r.command->parsed()) return std::nullopt;
  if (r.scenario->count() > 0 && r.options.scenario.empty())
    return refuse(exit_usage, "--scenario needs a built-in name (see `list`) or a scenario file");
  if (!after_dashdash.empty() && r.scheduler.empty())
    return refuse(exit_usage, "arguments after -- are the scheduler's: give --scheduler PATH");
  RunOptions run = r.options;
  if (r.perf_period->count() > 0) run.perf_period_ms = r.perf_period_ms;
  if (!r.scheduler.empty()) run.scheduler = r.scheduler;
  run.scheduler_args = after_dashdash;
  if (!r.junit.empty()) run.junit = r.junit;
  if (!r.html.empty()) run.html = r.html;
  if (!r.json.empty()) run.json = r.json;
  if (!r.out_dir.empty()) run.out_dir = r.out_dir;
  if (!r.system_map.empty()) run.system_map = r.system_map;
  run.host = r.host == "kvm" ? HostMode::kvm : r.host == "nested" ? HostMode::nested : HostMode::automatic;
  return run_main(run, env);
}

}  // namespace ktstr::cli
