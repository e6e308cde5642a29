#include "apps/cli/nested/run_nested.hpp"

#include <algorithm>
#include <charconv>
#include <iostream>
#include <string>

#include <spdlog/spdlog.h>

#include "apps/cli/base/exit_codes.hpp"
#include "apps/cli/base/refusal.hpp"
#include "apps/cli/guest/guest_image.hpp"
#include "apps/cli/nested/nested_host.hpp"
#include "apps/cli/guest/shared_libraries.hpp"
#include "kvm/topology.hpp"

namespace ktstr::cli {

namespace fs = std::filesystem;

namespace {


// The shortest text that reads back as the same double.
std::string number_text(double value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(value);
}

void add_once(std::vector<fs::path>& list, const fs::path& path) {
  if (std::find(list.begin(), list.end(), path) == list.end()) list.push_back(path);
}

// A scenario given as a file rather than a built-in name (run_main made a file's path
// absolute; docs/scenarios.md: a name with '/' is always a path).
bool scenario_is_file(const std::string& scenario) { return scenario.find('/') != std::string::npos; }

// Every field of RunOptions must reach the inner run: one added there stops compiling here
// until nested_run_command carries it (kernel comes resolved, host becomes --host=kvm).
[[maybe_unused]] void every_option_is_carried(const RunOptions& o) {
  [[maybe_unused]] const auto& [kernel, topology, memory_mib, timeout_s, json, out_dir, host, force_kvm, append,
                                freeze_at_s, snapshots, freeze_deadline_s, stall_timeout_s, perf_period_ms, monitor_period_ms,
                                system_map, watches, hardware_watchpoints, faults, scenario,
                                scheduler, scheduler_args, payloads, junit, html, assert_overrides, fail_on_skip] = o;
}

}  // namespace

NestedRunCommand nested_run_command(const RunOptions& options, const NestedRunInputs& inputs) {
  NestedRunCommand out;
  auto& argv = out.argv;
  auto option = [&](const std::string& name, const std::string& value) { argv.push_back("--" + name + "=" + value); };
  argv.push_back(inputs.self.string());
  if (inputs.verbose) argv.push_back("-v");
  argv.insert(argv.end(), {"run", "--host=kvm"});
  if (options.force_kvm) argv.push_back("--force-kvm");
  option("kernel", inputs.kernel.string());
  option("topology", options.topology);
  option("memory", std::to_string(options.memory_mib));
  option("timeout", std::to_string(options.timeout_s));
  option("out", options.out_dir->string());
  if (options.json) option("json", options.json->string());
  if (options.junit) option("junit", options.junit->string());
  if (options.html) option("html", options.html->string());
  if (!options.append.empty()) option("append", options.append);
  for (double at : options.freeze_at_s) option("freeze-at", number_text(at));
  option("snapshots", std::to_string(options.snapshots));
  option("freeze-deadline", std::to_string(options.freeze_deadline_s));
  option("stall-timeout", std::to_string(options.stall_timeout_s));
  // Unset stays unset: the default is chosen where the VM runs, which sees that host.
  if (options.perf_period_ms) option("perf-period", std::to_string(*options.perf_period_ms));
  if (options.monitor_period_ms != RunOptions{}.monitor_period_ms)
    option("monitor-period", std::to_string(options.monitor_period_ms));
  if (options.system_map) option("system-map", options.system_map->string());
  for (const auto& w : options.watches) option("watch", w);
  if (!options.hardware_watchpoints) option("hardware-watchpoints", "off");
  for (const auto& f : options.faults) option("fault", f);
  if (!options.scenario.empty()) option("scenario", options.scenario);
  for (const auto& a : options.assert_overrides) option("assert", a);
  for (const auto& p : options.payloads) option("payload", p);
  if (options.fail_on_skip) argv.push_back("--fail-on-skip");
  if (options.scheduler) {
    option("scheduler", options.scheduler->string());
    // The scheduler's own arguments come last: everything after "--" is theirs.
    if (!options.scheduler_args.empty()) {
      argv.push_back("--");
      argv.insert(argv.end(), options.scheduler_args.begin(), options.scheduler_args.end());
    }
  }

  add_once(out.readable, inputs.self.parent_path());
  add_once(out.readable, inputs.kernel.parent_path());
  if (options.system_map) add_once(out.readable, options.system_map->parent_path());
  if (options.scheduler) add_once(out.readable, options.scheduler->parent_path());
  if (scenario_is_file(options.scenario)) add_once(out.readable, fs::path(options.scenario).parent_path());
  for (const auto& file : inputs.also_read) add_once(out.readable, file.parent_path());

  add_once(out.writable, *options.out_dir);
  if (options.json) add_once(out.writable, options.json->parent_path());
  if (options.junit) add_once(out.writable, options.junit->parent_path());
  if (options.html) add_once(out.writable, options.html->parent_path());
  return out;
}

int run_nested(const RunOptions& options, const fs::path& kernel, unsigned extra_s, const Environment& env,
               const std::vector<std::string>& extra_env, const std::vector<fs::path>& run_files) {
  NestedRunInputs inputs;
  inputs.self = fs::read_symlink("/proc/self/exe");
  inputs.kernel = kernel;
  inputs.verbose = spdlog::get_level() <= spdlog::level::debug;
  // The files the inner run reads besides those named on the command line, and every
  // symlink's target (its directory may be hidden where the link's is not, or the reverse).
  std::vector<fs::path> files = {kernel, fs::absolute(agent_binary(env.agent))};
  if (options.scheduler) {
    files.push_back(*options.scheduler);
    try {
      for (const GuestFile& f : program_dependencies(*options.scheduler)) files.push_back(f.host_path);
    } catch (const ProgramDependencyError&) {
      // checked before (prepare_scenario): the inner run reports it the same way
    }
  }
  if (scenario_is_file(options.scenario)) files.emplace_back(options.scenario);
  files.insert(files.end(), run_files.begin(), run_files.end());
  for (const fs::path& file : files) {
    inputs.also_read.push_back(file);
    std::error_code ec;
    if (fs::path real = fs::canonical(file, ec); !ec && real != file) inputs.also_read.push_back(real);
  }
  const NestedRunCommand command = nested_run_command(options, inputs);

  NestedHostOptions nested;
  nested.environment = env;
  nested.env = extra_env;
  nested.command = command.argv;
  nested.readable = command.readable;
  for (const fs::path& dir : command.writable) {
    std::error_code ec;
    // A directory that is not there is not shared: the inner run then fails to write into
    // it just as a run here would.
    if (!fs::is_directory(dir, ec)) continue;
    if (fs::canonical(dir, ec) == "/") {
      spdlog::warn("the nested host cannot write into /: {} stays out of reach there", dir.string());
      continue;
    }
    nested.writable.push_back(dir);
  }
  // The outer guest must hold the inner one comfortably.
  nested.memory_mib = std::max<unsigned>(2048, static_cast<unsigned>(options.memory_mib) + 1536);
  // One outer CPU per guest vCPU (up to 8): a guest vCPU spinning on another one that has
  // no outer CPU to run on deadlocks the emulated host (docs/nested-host.md, known limits).
  nested.cpus = std::clamp(kvm::Topology(*kvm::TopologySpec::parse(options.topology)).cpu_count(), 2u, 8u);
  nested.timeout_s = options.timeout_s + extra_s + 300;
  nested.console_log = *options.out_dir / "nested-host-console.log";
  if (auto why = nested_host_unavailable(nested)) return refuse(exit_no_host, "no /dev/kvm and no nested host: " + *why);
  auto result = nested_host_exec(nested);
  if (result.timed_out) return refuse(exit_nested_timeout, "the nested host did not finish within " +
                                                             std::to_string(nested.timeout_s) + " s");
  if (!result.failure.empty()) return refuse(exit_nested_host_failed, "nested host failed: " + result.failure);
  if (result.refused) return refuse(exit_usage, *result.refused);
  return result.exit_status;
}

}  // namespace ktstr::cli
