// From the scheduler's error write to the freeze request, by the two paths the monitor has:
// polling the exit kind every 10 ms, and a slot 0 hardware hit (the vCPU's watchpoint_hit,
// sent right after the guest's write traps). A made-up kernel in crafted memory stands for
// the guest (tests/support/synthetic_kernel), a writer thread is the guest's scx_exit: it
// stamps the host time, writes ERROR_BPF, and in the hardware mode sends the hit as the
// vCPU would. The monitor is the real actor; the freeze request's arrival ends a sample.
// Each sample is a fresh monitor (one error freezes once per run). Modes interleave.
//
// What a whole freeze costs after the request (every vCPU parked) is measured on real
// vCPUs by runtime_bench (freeze) and by each failure dump's `latency_s`; give a dump.json
// with --dump to print the run's own figures beside these.
//
//   watch_latency_bench [--runs 30] [--dump out/dump.json]
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/monitor.hpp"
#include "actors/runtime_config.hpp"
#include "tests/support/stand_in_vcpu.hpp"
#include "tests/support/synthetic_kernel.hpp"

using namespace ktstr;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

/// One error write to the freeze request, in microseconds; negative when none came.
double one_sample(caf::actor_system& sys, bool hardware) {
  guest_kernel::testing::SyntheticKernel kernel;
  const uint64_t exit_kind = kernel.image_va(kernel.layout.symbols.scx_exit_kind);
  kernel.write_u32(exit_kind, 0);  // a scheduler is attached
  kernel.set_exit_info(1025, 0, "scx_bpf_error", "bench", {});
  caf::scoped_actor probe{sys};
  actors::MonitorConfig mc;
  mc.layout = kernel.layout;
  mc.memory = kernel.ram;
  mc.vcpus = 1;
  mc.period = 100ms;
  mc.exit_poll = 10ms;
  mc.hardware_watchpoints = hardware;
  mc.view = std::make_shared<actors::GuestView>();
  mc.freezer = caf::actor_cast<actors::freeze_requester>(probe);
  auto monitor = sys.spawn(actors::monitor_actor, mc);
  auto bsp = sys.spawn(test::debugging_bsp, kernel.input(), std::make_shared<test::DebugLog>(), std::string());
  caf::anon_send(bsp, monitor);
  // Located and the baseline read, then the write lands at a random phase of the poll.
  std::this_thread::sleep_for(200ms + std::chrono::microseconds(std::rand() % 10000));
  const auto wrote = clock_type::now();
  kernel.write_u32(exit_kind, 1025);
  if (hardware) caf::anon_send(monitor, msg::watchpoint_hit{0, 0, exit_kind, 0xffffffff81000000ull, 0x1, 0.2});
  double us = -1;
  probe->receive([&](msg::freeze_request&) { us = std::chrono::duration<double, std::micro>(clock_type::now() - wrote).count(); },
                 caf::after(2s) >> [] {});
  caf::anon_send_exit(monitor, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(bsp, caf::exit_reason::user_shutdown);
  return us;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5))];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"error write -> freeze request: polling (10 ms) vs a slot 0 hardware hit"};
  int runs = 30;
  std::string dump;
  app.add_option("--runs", runs, "samples per path")->capture_default_str();
  app.add_option("--dump", dump, "a failure dump.json: print its exit-event-to-parked figures too");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);

  caf::actor_system_config cfg;
  actors::configure_runtime(cfg);
  caf::actor_system sys{cfg};
  std::vector<double> poll, hw;
  int missing = 0;
  for (int i = 0; i < runs; ++i)
    for (bool hardware : {i % 2 == 0, i % 2 != 0}) {  // interleaved, alternating which goes first
      const double us = one_sample(sys, hardware);
      if (us < 0) ++missing;
      else (hardware ? hw : poll).push_back(us);
    }
  std::cout << fmt::format("error write -> freeze request, {} samples per path ({} without a request)\n", runs, missing);
  std::cout << fmt::format("  {:<28} {:>10} {:>10} {:>10}\n", "path", "median us", "p90 us", "max us");
  std::cout << fmt::format("  {:<28} {:>10.0f} {:>10.0f} {:>10.0f}\n", "polling every 10 ms", percentile(poll, 0.5),
                           percentile(poll, 0.9), percentile(poll, 1.0));
  std::cout << fmt::format("  {:<28} {:>10.0f} {:>10.0f} {:>10.0f}\n", "slot 0 hardware hit", percentile(hw, 0.5),
                           percentile(hw, 0.9), percentile(hw, 1.0));
  if (!hw.empty() && percentile(hw, 0.5) > 0)
    std::cout << fmt::format("  ratio polling / hardware (median): {:.1f}x\n", percentile(poll, 0.5) / percentile(hw, 0.5));
  if (!dump.empty()) {
    std::ifstream in(dump);
    const auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.contains("exit") || !j["exit"].is_object()) {
      std::cerr << dump << ": not a failure dump with an exit event\n";
      return 2;
    }
    const double seen = j["exit"]["at_s"].get<double>(), parked = j["at_s"].get<double>();
    std::cout << fmt::format("{}: exit kind seen by {} at {:.3f} s; every vCPU parked at {:.3f} s ({:.1f} ms later; "
                             "the freeze itself {:.1f} ms)\n",
                             dump, j["exit"]["via"].get<std::string>(), seen, parked, (parked - seen) * 1e3,
                             j["latency_s"].get<double>() * 1e3);
  }
  return 0;
}
