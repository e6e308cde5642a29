// runtime_bench: how fast the actor runtime reaches an idle vCPU, on a live guest.
// Needs /dev/kvm (here: run it inside the nested host). Absolute times there are
// emulated; the goals are ratios to the raw native kick measured in the same run.
//   1. one vCPU: raw kick vs actor ping (+kick) vs one-vCPU freeze   goal: ping <= 1.2x raw
//   2. freeze-all via vm actor + coordinator for 1, 2, 4, 8 vCPUs    goal: no worse than
//      linear in N (freeze(N) <= N x freeze(1)), and freeze(8) <= 3x one raw kick
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "actors/runtime_config.hpp"
#include "apps/cli/base/environment.hpp"
#include "apps/cli/guest/kernel_cmdline.hpp"
#include "apps/cli/guest/guest_image.hpp"
#include "apps/cli/kernel/kernel_cache.hpp"
#include "messages/messages.hpp"
#include "tests/bench/runtime_bench_common.hpp"

namespace ktstr::bench {

kvm::MachineConfig guest_config(const Options& o, uint32_t vcpus, const std::vector<uint8_t>& initrd) {
  kvm::MachineConfig m;
  m.kernel = o.kernel;
  m.initrd = initrd;
  m.cmdline = std::string(cli::kBaseCmdline) + " ktstr.hold_s=3000";
  m.topology = *kvm::TopologySpec::parse("1,1," + std::to_string(vcpus) + ",1");
  m.memory_mib = 512;
  return m;
}

}  // namespace ktstr::bench

namespace {

using namespace ktstr::bench;
using json = nlohmann::json;

json to_json(const Stats& s) {
  return {{"count", s.count}, {"median_us", s.median_us}, {"p90_us", s.p90_us}, {"min_us", s.min_us},
          {"max_us", s.max_us}};
}

void row(const std::string& name, const Stats& s, double ratio, const std::string& ratio_to) {
  std::printf("  %-28s %5zu %12.1f %12.1f %8.2fx %s\n", name.c_str(), s.count, s.median_us, s.p90_us, ratio,
              ratio_to.c_str());
}

std::string met(bool ok) { return ok ? "met" : "NOT met"; }

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::string json_path, kernel_arg = "default";
  CLI::App app{"runtime_bench: kick and freeze latency of the actor runtime on a live guest"};
  app.add_option("--kernel", kernel_arg, "bzImage path or cached kernel name");
  app.add_option("--out", o.out, "directory for the initramfs and console logs");
  app.add_option("--json", json_path, "write the results as JSON here");
  app.add_option("--samples", o.samples, "kick/ping/freeze1 samples (part 1)");
  app.add_option("--freezes", o.freezes, "freeze-all samples per vCPU count (part 2)");
  app.add_option("--vcpu", o.vcpu, "vCPU kicked in part 1");
  app.add_option("--counts", o.counts, "vCPU counts for part 2");
  app.add_option("--gap-ms", o.gap_ms, "pause between samples");
  app.add_option("--boot-timeout", o.boot_timeout_s, "seconds to wait for each guest's agent");
  CLI11_PARSE(app, argc, argv);

  const auto env = ktstr::cli::Environment::from_process();
  if (auto k = ktstr::cli::cached_kernel(env.cache_dir, kernel_arg)) o.kernel = *k;
  else o.kernel = kernel_arg;
  std::filesystem::create_directories(o.out);
  const auto initrd = ktstr::cli::build_guest_initramfs(o.out / "initramfs.cpio", {.agent = ktstr::cli::agent_binary(env.agent)});

  caf::actor_system_config cfg;
  ktstr::actors::keep_heap_mapped();  // as run_vm does
  auto system = std::make_unique<caf::actor_system>(ktstr::actors::configure_runtime(cfg));
  bool stuck = false;

  spdlog::info("part 1: {} samples on vCPU {}", o.samples, o.vcpu);
  KickResult kick;
  try {
    kick = measure_kick(*system, o, initrd);
  } catch (const std::exception& e) {
    kick.error = e.what();
  }
  stuck |= kick.error.find("did not stop") != std::string::npos;
  {
    const Stats r = stats_of(kick.raw_us), p = stats_of(kick.ping_us), f = stats_of(kick.freeze1_us);
    spdlog::info("kick: raw n={} median {:.1f} p90 {:.1f}; ping median {:.1f} p90 {:.1f}; freeze1 median {:.1f} {}",
                 r.count, r.median_us, r.p90_us, p.median_us, p.p90_us, f.median_us, kick.error);
  }
  std::vector<FreezeResult> freezes;
  for (uint32_t n : o.counts) {
    if (stuck) break;
    spdlog::info("part 2: {} freezes on a {}-vCPU guest", o.freezes, n);
    try {
      freezes.push_back(measure_freeze(*system, o, n, initrd));
      // Printed at once: the nested host has crashed mid-run, the figures should survive it.
      const Stats s = stats_of(freezes.back().latency_us);
      spdlog::info("freeze-all {} vCPU(s): n={} median {:.1f} us p90 {:.1f} us {}", n, s.count, s.median_us, s.p90_us,
                   freezes.back().error);
    } catch (const std::exception& e) {
      freezes.push_back(FreezeResult{n, {}, 0, e.what()});
    }
    stuck |= freezes.back().error.find("stuck") != std::string::npos;
  }

  const Stats raw = stats_of(kick.raw_us), raw_poll = stats_of(kick.raw_poll_us), ping = stats_of(kick.ping_us),
              f1 = stats_of(kick.freeze1_us), raw1 = stats_of(kick.raw_oneway_us), ping1 = stats_of(kick.ping_oneway_us);
  auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  json j;
  j["options"] = {{"kernel", o.kernel.string()}, {"samples", o.samples}, {"freezes", o.freezes},
                  {"vcpu", o.vcpu},             {"gap_ms", o.gap_ms}};
  j["kick"] = {{"raw", to_json(raw)},
               {"raw_poll", to_json(raw_poll)},
               {"actor_ping", to_json(ping)},
               {"actor_freeze_one", to_json(f1)},
               {"raw_one_way", to_json(raw1)},
               {"actor_ping_one_way", to_json(ping1)},
               {"ping_over_raw_one_way", ratio(ping1.median_us, raw1.median_us)},
               {"ping_over_raw", ratio(ping.median_us, raw.median_us)},
               {"freeze_one_over_raw", ratio(f1.median_us, raw.median_us)},
               {"error", kick.error},
               {"samples_us", {{"raw", kick.raw_us}, {"raw_poll", kick.raw_poll_us}, {"ping", kick.ping_us}, {"freeze_one", kick.freeze1_us},
                              {"raw_one_way", kick.raw_oneway_us}, {"ping_one_way", kick.ping_oneway_us}}}};

  std::printf("\nruntime_bench (times in us; only ratios are meaningful under emulation)\n");
  std::printf("  %-28s %5s %12s %12s %9s\n", "series", "n", "median", "p90", "ratio");
  row("raw kick_until_out", raw, 1.0, "(baseline)");
  row("raw request + poll served", raw_poll, ratio(raw_poll.median_us, raw.median_us), "of raw");
  row("actor ping + kick -> pong", ping, ratio(ping.median_us, raw.median_us), "of raw");
  row("actor freeze 1 vCPU -> parked", f1, ratio(f1.median_us, raw.median_us), "of raw");
  row("one way: raw kick -> out", raw1, 1.0, "(baseline)");
  row("one way: ping + kick -> handled", ping1, ratio(ping1.median_us, raw1.median_us), "of raw one way");
  if (!kick.error.empty()) std::printf("  part 1 error: %s\n", kick.error.c_str());

  const Stats* one = nullptr;
  Stats first;
  bool linear = true, have8 = false, eight_ok = false;
  for (const auto& f : freezes) {
    const Stats s = stats_of(f.latency_us);
    if (f.vcpus == 1) first = s, one = &first;
    const double vs_kick = ratio(s.median_us, raw.median_us);
    row("freeze-all " + std::to_string(f.vcpus) + " vCPU(s)", s, vs_kick, "of raw kick");
    json fj = {{"vcpus", f.vcpus}, {"stats", to_json(s)}, {"over_raw_kick", vs_kick}, {"partial", f.partial},
               {"error", f.error}, {"samples_us", f.latency_us}};
    if (one && one->median_us > 0) {
      const double vs_one = s.median_us / one->median_us;
      fj["over_freeze_1"] = vs_one;
      std::printf("  %-28s %51.2fx of freeze-all 1 vCPU\n", "", vs_one);
      if (vs_one > f.vcpus) linear = false;
    }
    if (f.vcpus == 8 && s.count > 0) have8 = true, eight_ok = vs_kick <= 3.0;
    if (s.count == 0 || !f.error.empty()) linear = false;
    if (!f.error.empty()) std::printf("  freeze %u error: %s\n", f.vcpus, f.error.c_str());
    j["freeze_all"].push_back(fj);
  }

  const bool ping_ok = raw.count > 0 && ping.count > 0 && ping.median_us <= 1.2 * raw.median_us;
  const bool ping1_ok = raw1.count > 0 && ping1.count > 0 && ping1.median_us <= 1.2 * raw1.median_us;
  std::printf("\ngoal: actor path <= 1.2x raw kick (median), one way (until the vCPU thread acts): %.2fx -> %s\n",
              ratio(ping1.median_us, raw1.median_us), met(ping1_ok).c_str());
  std::printf("goal: actor path <= 1.2x raw kick (median), round trip (with the reply's wake-up): %.2fx -> %s\n",
              ratio(ping.median_us, raw.median_us), met(ping_ok).c_str());
  std::printf("goal: freeze-all no worse than linear in vCPUs: %s\n", met(linear && one).c_str());
  std::printf("goal: freeze-all 8 vCPUs <= 3x one kick: %s\n", have8 ? met(eight_ok).c_str() : "not measured");
  j["goals"] = {{"actor_path_le_1_2x_raw_one_way", ping1_ok}, {"actor_path_le_1_2x_raw_round_trip", ping_ok}, {"freeze_linear", linear && one},
                {"freeze8_le_3x_kick", have8 && eight_ok}};
  if (!json_path.empty()) std::ofstream(json_path) << j.dump(2) << "\n";
  std::fflush(stdout);
  // A vCPU thread stuck in KVM_RUN would hang the actor system's destructor.
  if (stuck) ::_exit(3);
  system.reset();
  return kick.error.empty() ? 0 : 2;
}
