// The monitor's cost to the guest: guest work units of one steady scenario with the
// monitor sampling every 100 ms against the monitor off, runs interleaved (off, on, on,
// off, ...), medians and their ratio side by side. Goal: at most 1 % fewer work units.
// Needs /dev/kvm; here run it inside the nested host:
//   ktstr-actors host exec --timeout 1500 --writable <build> -- <build>/tests/bench/monitor_bench --out <build>/mon
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "tests/support/cli.hpp"

namespace fs = std::filesystem;
using namespace ktstr;

namespace {

struct Sample {
  unsigned period_ms = 0;
  int exit_code = -1;
  double work_units = 0;       ///< sum over the scenario's workers
  double sampling_ms = 0;      ///< host time per monitor sample (on only)
  size_t samples = 0;
};

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

Sample run_once(const std::string& kernel, const std::string& scenario, const std::string& topology, unsigned period,
                const fs::path& dir) {
  fs::create_directories(dir);
  std::vector<std::string> args{"run", "--host=kvm", "--topology", topology, "--scenario", scenario,
                                "--monitor-period", std::to_string(period), "--out", dir.string(),
                                "--json", (dir / "r.json").string()};
  if (!kernel.empty()) args.insert(args.end(), {"--kernel", kernel});
  Sample s;
  s.period_ms = period;
  auto cli = test::run_cli(args, {}, 900);
  s.exit_code = cli.exit_code;
  auto j = test::read_json(dir / "r.json");
  if (!j.is_object() || !j.contains("scenario")) return s;
  for (const auto& w : j["scenario"]["workers"]) s.work_units += w.value("work_units", 0.0);
  if (j["monitor"].is_object()) {
    s.sampling_ms = j["monitor"].value("sampling_ms_per_sample", 0.0);
    s.samples = j["monitor"]["samples"].size();
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"monitor cost: guest work units with the monitor at --period ms vs off"};
  int pairs = 3;
  unsigned period = 100;
  std::string kernel, scenario = "steady", topology = "1,1,2,1", out = "monitor-bench";
  app.add_option("--pairs", pairs, "off/on pairs (interleaved)")->capture_default_str();
  app.add_option("--period", period, "monitor period in ms for the 'on' runs")->capture_default_str();
  app.add_option("--kernel", kernel, "kernel (default: the run's default)");
  app.add_option("--scenario", scenario)->capture_default_str();
  app.add_option("--topology", topology)->capture_default_str();
  app.add_option("--out", out)->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::vector<Sample> all;
  for (int i = 0; i < pairs; ++i) {
    // Alternate which goes first, so a drift in the host's speed hits both alike.
    const unsigned order[2] = {i % 2 ? period : 0u, i % 2 ? 0u : period};
    for (unsigned p : order) {
      auto s = run_once(kernel, scenario, topology, p, fs::path(out) / fmt::format("run{}-{}", i, p ? "on" : "off"));
      std::cout << fmt::format("pair {} monitor {:>6}: exit {} work units {:.0f}", i, p ? fmt::format("{} ms", p) : "off",
                               s.exit_code, s.work_units);
      if (p) std::cout << fmt::format(" ({} samples, {:.3f} ms each on the host)", s.samples, s.sampling_ms);
      std::cout << std::endl;
      all.push_back(s);
    }
  }
  std::vector<double> off, on, cost;
  for (const auto& s : all) {
    if (s.work_units <= 0) continue;
    (s.period_ms ? on : off).push_back(s.work_units);
    if (s.period_ms) cost.push_back(s.sampling_ms);
  }
  if (off.empty() || on.empty()) {
    std::cout << "no complete pair: no ratio\n";
    return 1;
  }
  const double ratio = median(on) / median(off);
  std::cout << fmt::format("median work units: monitor off {:.0f}, monitor {} ms {:.0f}: ratio on/off {:.4f} "
                           "({:+.2f} %); host time per sample {:.3f} ms\n",
                           median(off), period, median(on), ratio, (ratio - 1) * 100, median(cost));
  std::cout << fmt::format("goal: at most 1 % fewer work units with the monitor: {}\n",
                           ratio >= 0.99 ? "met" : "not met");
  return 0;
}
