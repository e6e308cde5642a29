// The KVM host probe: the verdict logic on recorded observations (the figures are the
// ones measured on our machines, shared/docs/PLATFORM.md §1), the real probe against
// devices that are not KVM, and `host probe` on the machine the suite runs on.
#include <catch2/catch.hpp>

#include <fstream>

#include "apps/cli/base/exit_codes.hpp"
#include "apps/cli/report/host_probe_report.hpp"
#include "kvm/host_probe.hpp"
#include "tests/support/cli.hpp"

using namespace ktstr;
using namespace std::chrono_literals;

namespace {

kvm::ProbeObservation ran(std::chrono::nanoseconds loop, kvm::KvmModules modules = {}) {
  kvm::ProbeObservation o;
  o.device_exists = true;
  o.caps.api_version = 12;
  o.caps.immediate_exit = true;
  o.modules = modules;
  o.loop_runs = {loop};
  o.loop_time = loop;
  return o;
}

}  // namespace

TEST_CASE("probe: the loop time measured under kvm_pvm (1,680 ms) is emulated, with the module as evidence") {
  const auto p = kvm::judge_probe(ran(1680ms, {.kvm_pvm = true}));
  CHECK(p.verdict == kvm::ProbeVerdict::emulated);
  CHECK_THAT(p.reason, Catch::Contains("/dev/kvm emulates guests"));
  CHECK_THAT(p.reason, Catch::Contains("kvm_pvm (no kvm_amd or kvm_intel loaded)"));
  CHECK_THAT(p.reason, Catch::Contains("1,000,000-iteration probe loop took 1,680 ms"));
  CHECK(cli::probe_exit_code(p.verdict) == cli::exit_kvm_emulated);
}

TEST_CASE("probe: the fastest emulated loop seen (1,130 ms) is emulated, without naming a module that is not loaded") {
  const auto p = kvm::judge_probe(ran(1130ms, {.kvm_amd = true}));
  CHECK(p.verdict == kvm::ProbeVerdict::emulated);
  CHECK_THAT(p.reason, !Catch::Contains("kvm_pvm"));
}

TEST_CASE("probe: real KVM inside the nested host (25 ms) and hardware KVM (0.3 ms) are usable") {
  for (std::chrono::nanoseconds loop : std::initializer_list<std::chrono::nanoseconds>{25ms, 300us}) {
    const auto p = kvm::judge_probe(ran(loop, {.kvm_amd = true}));
    CHECK(p.verdict == kvm::ProbeVerdict::usable);
    CHECK(cli::probe_exit_code(p.verdict) == cli::exit_pass);
  }
  CHECK_THAT(kvm::judge_probe(ran(25ms)).reason, Catch::Contains("took 25 ms"));
  CHECK_THAT(kvm::judge_probe(ran(300us)).reason, Catch::Contains("took 0.30 ms"));
}

TEST_CASE("probe: the threshold itself is emulated, just below it usable") {
  CHECK(kvm::judge_probe(ran(kvm::kEmulatedLoopThreshold)).verdict == kvm::ProbeVerdict::emulated);
  CHECK(kvm::judge_probe(ran(kvm::kEmulatedLoopThreshold - 1ns)).verdict == kvm::ProbeVerdict::usable);
  // The margins the comment in host_probe.hpp claims.
  CHECK(kvm::kEmulatedLoopThreshold >= 10 * 25ms);
  CHECK(kvm::kEmulatedLoopThreshold * 4 <= 1130ms);
}

TEST_CASE("probe: a loop still running at the deadline is emulated and says so") {
  kvm::ProbeObservation o = ran(0ns, {.kvm_pvm = true});
  o.loop_runs.clear();
  o.loop_time.reset();
  o.loop_unfinished = true;
  const auto p = kvm::judge_probe(o);
  CHECK(p.verdict == kvm::ProbeVerdict::emulated);
  CHECK_THAT(p.reason, Catch::Contains("unfinished after 5,000 ms"));
}

TEST_CASE("probe: a failed step is broken and names the step - no device is absent") {
  kvm::ProbeObservation o = ran(1ms);
  o.failed_step = "KVM_CREATE_VM: Cannot allocate memory";
  auto p = kvm::judge_probe(o);
  CHECK(p.verdict == kvm::ProbeVerdict::broken);
  CHECK(p.reason == "/dev/kvm is not usable: KVM_CREATE_VM: Cannot allocate memory");
  CHECK(cli::probe_exit_code(p.verdict) == cli::exit_kvm_broken);

  kvm::ProbeObservation none;
  none.device_exists = false;
  p = kvm::judge_probe(none);
  CHECK(p.verdict == kvm::ProbeVerdict::absent);
  CHECK(p.reason == "no /dev/kvm");
  CHECK(cli::probe_exit_code(p.verdict) == cli::exit_no_host);
}

TEST_CASE("probe: a finished probe without a loop time is broken, never usable") {
  kvm::ProbeObservation o = ran(1ms);
  o.loop_runs.clear();
  o.loop_time.reset();
  CHECK(kvm::judge_probe(o).verdict == kvm::ProbeVerdict::broken);
}

TEST_CASE("probe: the real probe calls a missing device absent and a device that is not KVM broken, quickly") {
  auto o = kvm::observe_host("/nonexistent/kvm");
  CHECK(kvm::judge_probe(o).verdict == kvm::ProbeVerdict::absent);

  o = kvm::observe_host("/dev/null");
  auto p = kvm::judge_probe(o);
  CHECK(p.verdict == kvm::ProbeVerdict::broken);
  CHECK_THAT(p.reason, Catch::Contains("KVM_GET_API_VERSION"));
  CHECK(o.elapsed < 2s);

  const auto file = std::filesystem::temp_directory_path() / "ktstr-probe-not-kvm";
  std::ofstream(file) << "not a device\n";
  p = kvm::judge_probe(kvm::observe_host(file.string()));
  std::filesystem::remove(file);
  CHECK(p.verdict == kvm::ProbeVerdict::broken);
}

TEST_CASE("probe: result.json's host object carries the outer probe only when it is a well-formed object") {
  const auto p = kvm::judge_probe(ran(1680ms, {.kvm_pvm = true}));
  const std::string outer = cli::probe_json(p).dump();
  auto host = cli::host_json("nested", nullptr, outer.c_str());
  CHECK(host["mode"] == "nested");
  CHECK(host["probe"].is_null());
  CHECK(host["outer_probe"]["verdict"] == "emulated");
  CHECK(host["outer_probe"]["loop_ms"].get<double>() == Approx(1680));

  for (const char* bad : {"", "not json", "[1,2]", "{\"verdict\": 3}"})
    CHECK(cli::host_json("nested", nullptr, bad)["outer_probe"].is_null());
  const std::string huge = "{\"verdict\":\"usable\",\"x\":\"" + std::string(20000, 'a') + "\"}";
  CHECK(cli::host_json("nested", nullptr, huge.c_str())["outer_probe"].is_null());

  const auto props = cli::host_properties(host);
  auto has = [&](const std::string& name, const std::string& value) {
    for (const auto& [n, v] : props)
      if (n == name && v == value) return true;
    return false;
  };
  CHECK(has("host.mode", "nested"));
  CHECK(has("host.outer_probe.verdict", "emulated"));
  CHECK(has("host.outer_probe.loop_ms", "1680.000"));
}

// The suite's own machine: whatever its /dev/kvm is, the verdict must agree with what
// the probe measured. Here (no device) it is absent; on a kvm_pvm machine emulated; in
// the nested host or on hardware usable.
TEST_CASE("probe: `host probe --json` on this machine gives a verdict consistent with its own measurements") {
  const auto r = test::run_cli({"host", "probe", "--json"}, {}, 60);
  INFO(r.output);
  const auto j = nlohmann::json::parse(r.output.substr(r.output.find('{')), nullptr, false);
  REQUIRE(j.is_object());
  const std::string verdict = j["verdict"];
  CHECK(r.exit_code == cli::probe_exit_code(verdict == "usable"     ? kvm::ProbeVerdict::usable
                                            : verdict == "emulated" ? kvm::ProbeVerdict::emulated
                                            : verdict == "absent"   ? kvm::ProbeVerdict::absent
                                                                    : kvm::ProbeVerdict::broken));
  CHECK(j["probe_ms"].get<double>() < kvm::kProbeDeadline.count() + 3000);
  if (!j["device_exists"].get<bool>()) CHECK(verdict == "absent");
  if (j["loop_ms"].is_number()) {
    const bool slow = j["loop_ms"].get<double>() >= static_cast<double>(kvm::kEmulatedLoopThreshold.count());
    CHECK(verdict == (slow ? "emulated" : "usable"));
  }
  if (verdict == "usable") CHECK(j["capabilities"]["immediate_exit"].get<bool>());
}
