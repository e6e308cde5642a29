// The KVM tests run where KVM works: on a host whose /dev/kvm the probe calls usable, or
// inside the nested software-KVM host. Either way the probe, run here for real, must
// call this /dev/kvm usable: otherwise `run --host=kvm` would refuse it and every other
// test here would fail for the wrong reason.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "kvm/host_probe.hpp"
#include "tests/support/cli.hpp"

using namespace ktstr;

TEST_CASE("the host probe calls the /dev/kvm the KVM tests run on usable, at hardware-like speed", "[probe]") {
  const auto r = test::run_cli({"host", "probe", "--json"}, {}, 60);
  INFO(r.output);
  const auto j = nlohmann::json::parse(r.output.substr(r.output.find('{')), nullptr, false);
  REQUIRE(j.is_object());
  const char* nested = std::getenv("KTSTR_NESTED_HOST");
  INFO("inside the nested host: " << (nested ? nested : "no"));
  CHECK(j["verdict"] == "usable");
  CHECK(r.exit_code == 0);
  REQUIRE(j["loop_ms"].is_number());
  CHECK(j["loop_ms"].get<double>() < static_cast<double>(kvm::kEmulatedLoopThreshold.count()));
  CHECK(j["capabilities"]["immediate_exit"].get<bool>());
  CHECK(j["capabilities"]["api_version"] == 12);
  // Printed for the record (CI log): where the threshold sits against this host.
  WARN("probe loop " << j["loop_ms"].get<double>() << " ms, whole probe " << j["probe_ms"].get<double>() << " ms");
}

TEST_CASE("a probe guest still looping at the deadline is kicked out of KVM_RUN and judged, in time", "[probe]") {
  // 4e9 iterations: seconds even on hardware, far more under the nested host.
  const auto o = kvm::observe_host("/dev/kvm", std::chrono::milliseconds(1000), 4'000'000'000u);
  const auto p = kvm::judge_probe(o);
  INFO(p.reason);
  CHECK_FALSE(o.failed_step.has_value());
  CHECK(o.loop_unfinished);
  CHECK(p.verdict == kvm::ProbeVerdict::emulated);
  CHECK_THAT(p.reason, Catch::Contains("unfinished after 1,000 ms"));
  // The deadline, one kick, the thread's exit: nowhere near the 3 s grace the probe allows.
  CHECK(o.elapsed < std::chrono::milliseconds(2500));
}
