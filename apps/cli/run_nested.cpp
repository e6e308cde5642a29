#include "apps/cli/run_nested.hpp"

#include <algorithm>
#include <iostream>
#include <string>

#include "apps/cli/exit_codes.hpp"
#include "apps/cli/nested_host.hpp"
#include "kvm/topology.hpp"

namespace ktstr::cli {

namespace fs = std::filesystem;

namespace {

int fail(int code, const std::string& line) {
  std::cerr << "ktstr-actors: " << line << "\n";
  return code;
}

}  // namespace

int run_nested(const RunOptions& options, const fs::path& kernel, unsigned extra_s) {
  NestedHostOptions nested;
  const fs::path self = fs::read_symlink("/proc/self/exe");
  nested.command = {self.string(), "run", "--host=kvm", "--kernel", kernel.string(), "--topology", options.topology,
                    "--memory", std::to_string(options.memory_mib), "--timeout", std::to_string(options.timeout_s),
                    "--out", options.out_dir->string()};
  if (!options.append.empty()) nested.command.insert(nested.command.end(), {"--append", options.append});
  for (double at : options.freeze_at_s) nested.command.insert(nested.command.end(), {"--freeze-at", std::to_string(at)});
  nested.command.insert(nested.command.end(),
                        {"--snapshots", std::to_string(options.snapshots), "--freeze-deadline",
                         std::to_string(options.freeze_deadline_s), "--stall-timeout",
                         std::to_string(options.stall_timeout_s)});
  // Unset stays unset: the default is chosen where the VM runs, which sees that host.
  if (options.perf_period_ms)
    nested.command.insert(nested.command.end(), {"--perf-period", std::to_string(*options.perf_period_ms)});
  if (!options.scenario.empty()) nested.command.insert(nested.command.end(), {"--scenario", options.scenario});
  for (const auto& a : options.assert_overrides) nested.command.insert(nested.command.end(), {"--assert", a});
  if (options.junit) {
    nested.command.insert(nested.command.end(), {"--junit", options.junit->string()});
    nested.writable.push_back(options.junit->parent_path());
  }
  if (options.scheduler) {
    nested.command.insert(nested.command.end(), {"--scheduler", options.scheduler->string(), "--"});
    nested.command.insert(nested.command.end(), options.scheduler_args.begin(), options.scheduler_args.end());
  }
  nested.writable.push_back(*options.out_dir);
  if (options.json) {
    nested.command.insert(nested.command.end(), {"--json", options.json->string()});
    nested.writable.push_back(options.json->parent_path());
  }
  // The outer guest must hold the inner one comfortably.
  nested.memory_mib = std::max<unsigned>(2048, static_cast<unsigned>(options.memory_mib) + 1536);
  // One outer CPU per guest vCPU (up to 8): a guest vCPU spinning on another one that has
  // no outer CPU to run on deadlocks the emulated host (README, known limits).
  nested.cpus = std::clamp(kvm::Topology(*kvm::TopologySpec::parse(options.topology)).cpu_count(), 2u, 8u);
  nested.timeout_s = options.timeout_s + extra_s + 300;
  nested.console_log = *options.out_dir / "nested-host-console.log";
  if (auto why = nested_host_unavailable(nested)) return fail(exit_no_host, "no /dev/kvm and no nested host: " + *why);
  auto result = nested_host_exec(nested);
  if (result.timed_out) return fail(exit_nested_timeout, "the nested host did not finish within " +
                                                             std::to_string(nested.timeout_s) + " s");
  if (!result.failure.empty()) return fail(exit_nested_host_failed, "nested host failed: " + result.failure);
  return result.exit_status;
}

}  // namespace ktstr::cli
