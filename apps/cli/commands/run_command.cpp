#include "apps/cli/commands/run_command.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>

#include <spdlog/spdlog.h>

#include "apps/cli/base/exit_codes.hpp"
#include "apps/cli/base/refusal.hpp"
#include "apps/cli/commands/run_checks.hpp"
#include "apps/cli/guest/guest_image.hpp"
#include "apps/cli/report/host_probe_report.hpp"
#include "apps/cli/kernel/kernel_cache.hpp"
#include "apps/cli/kernel/kernel_facts.hpp"
#include "apps/cli/guest/kernel_cmdline.hpp"
#include "apps/cli/vm/perf_choice.hpp"
#include "apps/cli/nested/run_nested.hpp"
#include "apps/cli/base/command_words.hpp"
#include "apps/cli/report/failure_dump.hpp"
#include "apps/cli/report/html_report.hpp"
#include "apps/cli/report/run_report.hpp"
#include "apps/cli/vm/run_vm.hpp"
#include "apps/cli/scenario/scenario_catalog.hpp"
#include "apps/cli/commands/scenario_run.hpp"
#include "apps/cli/vm/fault_option.hpp"
#include "apps/cli/vm/watch_option.hpp"
#include "apps/cli/verdict/monitor_checks.hpp"
#include "kvm/error.hpp"
#include "kvm/host_probe.hpp"
#include "kvm/host_quirks.hpp"
#include "kvm/machine.hpp"

namespace ktstr::cli {

namespace fs = std::filesystem;

namespace {

int exit_code_for(kvm::ErrorKind kind) {
  switch (kind) {
    case kvm::ErrorKind::kernel_image: return exit_kernel_image;
    case kvm::ErrorKind::boot_protocol: return exit_boot_protocol;
    case kvm::ErrorKind::topology: return exit_topology;
    case kvm::ErrorKind::too_many_vcpus: return exit_too_many_vcpus;
    case kvm::ErrorKind::memory: return exit_memory;
    case kvm::ErrorKind::no_kvm: return exit_no_host;
    case kvm::ErrorKind::kvm:
    case kvm::ErrorKind::system: return exit_vmm_error;
  }
  return exit_vmm_error;
}


fs::path default_out_dir() {
  char stamp[32];
  std::time_t now = std::time(nullptr);
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
  return fs::absolute("ktstr-out") / ("run-" + std::string(stamp) + "-" + std::to_string(::getpid()));
}

/// The System.map the monitor uses: the one given, else one beside the kernel (as `kernel
/// build` and the fixtures leave it), else none (the kernel's own kallsyms).
fs::path system_map_for(const RunOptions& options, const fs::path& kernel) {
  if (options.system_map) return *options.system_map;
  std::error_code ec;
  for (const char* name : {"System.map", "System.map.xz"})
    if (fs::is_regular_file(kernel.parent_path() / name, ec)) return kernel.parent_path() / name;
  return {};
}

/// What the monitor needs of this kernel (symbols, BTF offsets), decoded once per image
/// and cached. A kernel that cannot give it runs without the monitor, saying why.
void add_kernel_layout(VmRunLimits& limits, const RunOptions& options, const KernelFacts& facts) {
  if (options.monitor_period_ms == 0) return;
  limits.monitor_period = std::chrono::milliseconds(options.monitor_period_ms);
  limits.hardware_watchpoints = options.hardware_watchpoints;
  if (facts.ok) {
    limits.kernel_layout = facts.layout;
  } else {
    limits.monitor_unavailable = "monitor unavailable: " + facts.why;
    spdlog::warn("{}", limits.monitor_unavailable);
  }
}

/// Names a runtime guest kernel address through the kernel's symbols moved by the slide
/// the monitor found; empty (nothing named) without both.
BacktraceNamer kernel_namer(const KernelFacts& facts, const RunObservation& obs) {
  const msg::monitor_report* monitor = obs.finished.monitor ? &*obs.finished.monitor : nullptr;
  if (!facts.ok || !monitor || !monitor->available) return {};
  return [&facts, slide = static_cast<uint64_t>(monitor->slide),
          end = facts.symbols.address_of("_end").value_or(~uint64_t(0))](uint64_t address) -> std::string {
    constexpr uint64_t kKernelText = 0xffffffff80000000ull;  // __START_KERNEL_map: below it, no kernel symbol
    if (address < kKernelText) return {};                   // user space
    const uint64_t link = address - slide;
    // Past the image: BPF programs, modules; no symbol of the image names them.
    if (link > end) return "outside the kernel image: BPF or module code";
    return facts.symbols.symbolize(link);
  };
}

/// A scheduler error froze the guest: its snapshot becomes dump.json and the BUG SUMMARY.
void add_failure_dump(RunReport& report, const RunObservation& obs, const BacktraceNamer& name,
                      const fs::path& out_dir) {
  const auto* snap = failure_snapshot(obs.snapshots);
  if (!snap) return;
  const msg::monitor_report* monitor = obs.finished.monitor ? &*obs.finished.monitor : nullptr;
  const fs::path path = out_dir / "dump.json";
  std::ofstream(path) << failure_dump_json(*snap, monitor, name).dump(2) << "\n";
  report.bug_summary = bug_summary(*snap, monitor, name);
  report.bug_summary.push_back("dump: " + path.string());
  report.json["dump"] = path.string();
}

/// The words to watch: every --watch, then the scenario's watch ops (each from its step on).
std::vector<WatchRequest> watch_requests(const RunOptions& options, const Scenario* scenario) {
  std::vector<WatchRequest> out;
  for (const auto& text : options.watches) out.push_back({text});
  if (!scenario) return out;
  for (uint32_t i = 0; i < scenario->steps.size(); ++i)
    for (const auto& op : scenario->steps[i].ops) {
      if (op.kind != StepOp::Kind::watch) continue;
      out.push_back({op.word + (op.freeze ? ",freeze" : ""), op.where.file + ":" + std::to_string(op.where.line) + ": " +
                                                                op.where.field + " watch", i, op.when});
    }
  return out;
}

VmRunLimits run_limits(const RunOptions& options, unsigned extra_s) {
  VmRunLimits limits;
  limits.run_deadline = std::chrono::seconds(options.timeout_s + extra_s);
  limits.stall_timeout = std::chrono::seconds(options.stall_timeout_s);
  limits.freeze_deadline = std::chrono::seconds(options.freeze_deadline_s);
  const PerfChoice perf = choose_perf_period(options.perf_period_ms, kvm::detect_host_quirks());
  limits.perf_period = perf.period;
  limits.perf_off_reason = perf.off_reason;
  if (!perf.off_reason.empty()) spdlog::info("perf sampling {}", perf.off_reason);
  auto ms = [](double s) { return std::chrono::milliseconds(static_cast<int64_t>(s * 1000)); };
  for (double at : options.freeze_at_s) limits.freeze_schedule.emplace_back(ms(at), "request");
  // --snapshots N: evenly inside the run deadline, never at its very start or end.
  for (unsigned i = 1; i <= options.snapshots; ++i)
    limits.freeze_schedule.emplace_back(ms(options.timeout_s * double(i) / (options.snapshots + 1)), "periodic");
  return limits;
}

}  // namespace

int run_main(RunOptions options, const Environment& env) {
  const fs::path kernel = resolve_kernel(options.kernel, env.cache_dir);
  if (kernel.empty())
    return refuse(exit_kernel_image, "kernel \"" + options.kernel + "\": no such file here and no cached kernel of "
                                     "that name in " + (env.cache_dir / "kernels").string() +
                                     " (see `ktstr-actors kernel list`)");
  auto spec = kvm::TopologySpec::parse(options.topology);
  if (!spec) return refuse(exit_topology, "topology '" + options.topology + "' is not N,L,C,T (four whole numbers)");

  kvm::MachineConfig machine;
  machine.kernel = kernel;
  machine.topology = *spec;
  machine.memory_mib = options.memory_mib;
  machine.cmdline = kBaseCmdline;
  if (env.kvm_device) machine.kvm_device = *env.kvm_device;  // tests
  if (!options.append.empty()) machine.cmdline += " " + options.append;
  try {
    (void)kvm::validate(machine);  // bad input is refused before anything boots
  } catch (const kvm::Error& e) {
    return refuse(exit_code_for(e.kind()), e.what());
  }

  std::optional<PreparedScenario> scenario;
  try {
    scenario = prepare_scenario(options, kvm::Topology(*spec));
  } catch (const ScenarioInputError& e) {
    return refuse(e.exit_code, e.what());
  }
  const unsigned extra_s = scenario ? scenario_extra_seconds(*scenario) : 0;
  // The payloads' programs as found here: a nested run inside finds the same files, and
  // reads them and their libraries there.
  std::vector<fs::path> payload_files;
  if (scenario) {
    const size_t first_cli = scenario->payloads.size() - options.payloads.size();  // --payload ones come last
    for (size_t i = 0; i < options.payloads.size(); ++i) {
      auto words = split_command(options.payloads[i]).words;  // checked by prepare_scenario
      words.at(0) = scenario->payloads.at(first_cli + i).host.string();
      options.payloads[i] = join_command(words);
    }
    for (const auto& p : scenario->payloads) {
      payload_files.push_back(p.host);
      for (const auto& lib : p.libraries) payload_files.push_back(lib.host_path);
    }
  }
  // Option values that cannot work: refused here, before an output directory, a VM or a
  // nested host exists.
  if (auto refusal = check_run_options(options, extra_s, host_memory_mib()))
    return refuse(refusal->exit_code, refusal->line);
  if (options.scheduler) options.scheduler = fs::absolute(*options.scheduler);
  if (options.junit) options.junit = fs::absolute(*options.junit);
  if (options.html) options.html = fs::absolute(*options.html);
  // A scenario file is carried by absolute path (the nested run has another working
  // directory); a built-in name stays a name, even with a file of that name here,
  // because resolve_scenario picked the built-in.
  if (!options.scenario.empty() && !builtin_scenario(options.scenario) && fs::exists(options.scenario))
    options.scenario = fs::absolute(options.scenario).string();

  if (options.system_map) {
    options.system_map = fs::absolute(*options.system_map);
    if (!fs::is_regular_file(*options.system_map))
      return refuse(exit_usage, "--system-map " + options.system_map->string() + ": no such file");
  }
  // Decoded here, before a nested host, so the run inside finds it in the cache.
  KernelFacts facts;
  if (options.monitor_period_ms > 0) facts = load_kernel_facts(env.cache_dir, kernel, system_map_for(options, kernel));
  std::vector<actors::WatchConfig> watches;
  const auto requests = watch_requests(options, scenario ? &scenario->scenario : nullptr);
  if (!requests.empty()) {
    const std::string who = requests.front().origin == "--watch" ? "--watch" : "the scenario's watch op";
    if (options.monitor_period_ms == 0) return refuse(exit_watch, who + " needs the monitor: --monitor-period 0 turns it off");
    if (!facts.ok) return refuse(exit_watch, who + ": the monitor cannot read this kernel: " + facts.why);
    auto resolved = resolve_watches(requests, facts.symbols);
    if (auto* r = std::get_if<Refusal>(&resolved)) return refuse(r->exit_code, r->line);
    watches = std::get<std::vector<actors::WatchConfig>>(resolved);
  }
  std::vector<msg::fault_event> faults;
  if (!options.faults.empty()) {
    auto parsed = parse_faults(options.faults, kvm::Topology(*spec).cpu_count(), double(options.timeout_s + extra_s));
    if (auto* r = std::get_if<Refusal>(&parsed)) return refuse(r->exit_code, r->line);
    faults = std::get<std::vector<msg::fault_event>>(parsed);
    if (faults_need_symbols(faults)) {  // guest_write: the monitor stores it, at the symbol found here
      if (options.monitor_period_ms == 0)
        return refuse(exit_fault, "--fault guest_write needs the monitor: --monitor-period 0 turns it off");
      if (!facts.ok) return refuse(exit_fault, "--fault guest_write: the monitor cannot read this kernel: " + facts.why);
      if (auto r = resolve_fault_symbols(faults, facts.symbols)) return refuse(r->exit_code, r->line);
    }
  }

  options.out_dir = fs::absolute(options.out_dir.value_or(default_out_dir()));
  if (options.json) options.json = fs::absolute(*options.json);
  std::error_code ec;
  fs::create_directories(*options.out_dir, ec);
  if (ec) return refuse(exit_usage, "cannot create output directory " + options.out_dir->string() + ": " + ec.message());

  // Where KVM comes from: decided by the probe (kvm/host_probe.hpp), never by whether
  // the device node opens; `host probe` and scripts/test.sh ask the same question.
  if (options.host == HostMode::nested) {
    std::cout << "host: nested software-KVM host (requested)" << std::endl;
    return run_nested(options, kernel, extra_s, env, {}, payload_files);
  }
  const kvm::HostProbe& probe = kvm::probe_host(machine.kvm_device);
  spdlog::debug("host probe: {} ({})", kvm::to_string(probe.verdict), probe.reason);
  const bool emulated = probe.verdict == kvm::ProbeVerdict::emulated;
  if (probe.verdict != kvm::ProbeVerdict::usable && options.host == HostMode::automatic) {
    std::cout << "host: nested software-KVM host (" << probe.reason << ")" << std::endl;
    // The run inside records why it is there (result.json host.outer_probe).
    return run_nested(options, kernel, extra_s, env,
                      {std::string(kOuterProbeEnv) + "=" + probe_json(probe).dump()}, payload_files);
  }
  if (emulated && options.force_kvm) {
    spdlog::warn("--force-kvm: using {} although {}", machine.kvm_device, probe.reason);
  } else if (probe.verdict != kvm::ProbeVerdict::usable) {
    return refuse(probe_exit_code(probe.verdict),
                "--host=kvm: " + probe.reason +
                    (emulated ? " (--host=auto runs the nested host instead; --force-kvm uses it anyway)"
                              : " (see `ktstr-actors host probe`)"));
  }
  const bool inside_nested = env.inside_nested_host;
  std::cout << "host: " << machine.kvm_device << (inside_nested ? " inside the nested software-KVM host" : "")
            << (probe.observation.loop_time ? " (probe loop " + kvm::format_loop_time(*probe.observation.loop_time) + ")" : "")
            << std::endl;
  const nlohmann::json host = host_json(inside_nested ? "nested" : "kvm", &probe,
                                          env.outer_probe ? env.outer_probe->c_str() : nullptr);

  try {
    GuestImageContents contents;
    contents.agent = agent_binary(env.agent);
    if (scenario) {
      contents.plan_json = scenario->plan.dump();
      contents.scheduler = scenario->scheduler;
      contents.payloads = scenario->payloads;
      std::ofstream(*options.out_dir / "plan.json") << scenario->plan.dump(2) << "\n";
    }
    machine.initrd = build_guest_initramfs(*options.out_dir / "initramfs.cpio", contents);
  } catch (const std::exception& e) {
    return refuse(exit_vmm_error, std::string("cannot build the guest initramfs: ") + e.what());
  }
  const VmRunPaths paths{*options.out_dir / "console.log", *options.out_dir / "agent.log"};
  spdlog::info("booting {} with topology {} ({} MiB); kernel console: {}", kernel.string(), options.topology,
               options.memory_mib, paths.kernel_log.string());
  if (scenario)
    spdlog::info("scenario {} ({:.1f} s){}", scenario->scenario.name, scenario->scenario.duration_ms / 1000.0,
                 scenario->scheduler ? " under scheduler " + scenario->scheduler->string() : std::string(" under the built-in scheduler"));
  VmRunLimits limits = run_limits(options, extra_s);
  add_kernel_layout(limits, options, facts);
  limits.watches = watches;
  limits.faults = faults;
  RunObservation obs = run_vm(machine, paths, limits);
  if (obs.kernel && obs.finished.monitor && !confirm_release(*obs.finished.monitor, obs.kernel->release))
    spdlog::warn("{}", obs.finished.monitor->unavailable);

  const BacktraceNamer name = kernel_namer(facts, obs);
  RunReport report = make_run_report(options, kernel, kvm::Topology(*spec), obs, paths, name);
  report.json["host"] = host;
  if (scenario) judge_scenario(*scenario, obs, report, options.junit, options.fail_on_skip);
  add_failure_dump(report, obs, name, *options.out_dir);
  print_run_summary(std::cout, report);
  write_run_json(report, *options.out_dir / "result.json");
  if (!obs.snapshots.empty()) {
    std::ofstream(*options.out_dir / "snapshots.json") << snapshots_json(obs.snapshots).dump(2) << "\n";
    std::cout << "snapshots: " << (*options.out_dir / "snapshots.json").string() << "\n";
  }
  if (options.json) write_run_json(report, *options.json);
  if (options.html) {
    std::ofstream out(*options.html);
    out << run_html(report.json, scenario ? scenario->scenario.name : std::string("run"));
    if (!out) spdlog::error("cannot write {}", options.html->string());
  }
  std::cout.flush();
  if (!obs.finished.stuck_vcpus.empty()) std::_Exit(report.exit_code);  // see run_vm: never wait on a stuck thread
  return report.exit_code;
}

}  // namespace ktstr::cli
