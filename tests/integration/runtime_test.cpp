// The actor runtime on a live guest (needs /dev/kvm: runs inside the nested host here).
#include <catch2/catch.hpp>

#include "tests/support/files.hpp"

#include <fstream>
#include <set>
#include <sstream>

#include "apps/cli/base/exit_codes.hpp"
#include "apps/cli/vm/perf_choice.hpp"
#include "kvm/host_quirks.hpp"
#include "tests/support/cli.hpp"

using namespace ktstr;

using ktstr::test::slurp;

namespace {
}  // namespace

TEST_CASE("20 freeze/thaw cycles on a 4-vCPU guest: all park, the guest runs on, no lockup reports", "[runtime]") {
  auto dir = test::scratch_dir("freeze");
  auto r = test::run_cli({"run", "--host=kvm", "--topology", "1,1,4,1", "--timeout", "45", "--snapshots", "20",
                          "--append", "ktstr.hold_s=60", "--out", dir.string(), "--json", (dir / "r.json").string()});
  INFO(r.output);
  auto j = test::read_json(dir / "r.json");
  REQUIRE(j.is_object());
  CHECK(r.exit_code == cli::exit_pass);
  CHECK(j["freezes"]["count"] == 20);
  CHECK(j["freezes"]["partial"] == 0);
  auto snaps = test::read_json(dir / "snapshots.json");
  REQUIRE(snaps.is_array());
  for (const auto& s : snaps) CHECK(s["vcpus"].size() == 4);
  // The guest keeps running after each thaw: heartbeats continue past the last freeze.
  REQUIRE(j["heartbeats"]["count"].get<int>() > 0);
  CHECK(j["heartbeats"]["last_at_s"].get<double>() > snaps.back()["at_s"].get<double>());
  // The soft deadline asked the agent to finish, and it powered off.
  CHECK(j["vm_end"]["how"] == "power-off");
  const auto console = slurp(dir / "console.log");
  CHECK(console.find("soft lockup") == std::string::npos);
  CHECK(console.find("rcu_preempt detected stalls") == std::string::npos);
  CHECK(console.find("rcu_sched detected stalls") == std::string::npos);
  // No --perf-period: the sampler's default follows the host. Under an emulated host it
  // is off and the report says why; elsewhere every vCPU has a timeline.
  if (kvm::detect_host_quirks().ipi_to_guest_may_hang) {
    CHECK(j["perf"].is_null());
    REQUIRE(j["perf_off"].is_string());
    CHECK_THAT(j["perf_off"].get<std::string>(), Catch::Contains("--perf-period MS"));
    CHECK_THAT(r.output, Catch::Contains("perf sampling: off by default"));
  } else {
    CHECK(j["perf_off"].is_null());
    REQUIRE(j["perf"].is_object());
    CHECK(j["perf"]["period_ms"] == cli::kDefaultPerfPeriod.count());
    REQUIRE(j["perf"]["vcpus"].size() == 4);
    const std::set<std::string> all{"cycles", "instructions", "cache-misses", "branch-misses", "task-clock",
                                    "context-switches", "cpu-migrations"};
    for (const auto& v : j["perf"]["vcpus"]) {
      CHECK(v["samples"].size() >= 20);  // ~45 s at one sample a second
      std::set<std::string> seen;  // every counter is either sampled or listed unavailable
      for (const auto& c : v["counters"]) seen.insert(c["name"].get<std::string>());
      for (const auto& u : v["unavailable"]) seen.insert(u["name"].get<std::string>());
      CHECK(seen == all);
      uint64_t task_clock_ns = 0;  // software, no PMU needed: a vCPU thread that booted used CPU
      for (const auto& s : v["samples"]) task_clock_ns += s["deltas"].value("task-clock", uint64_t{0});
      CHECK(task_clock_ns > 0);
    }
  }
}

TEST_CASE("a guest told to hang is ended by the watchdog within its stall deadline + 2 s", "[runtime]") {
  auto dir = test::scratch_dir("hangwd");
  // The stall clock runs from VM start, and a `quiet` kernel says nothing until the agent
  // is up: under the emulated host that took over 10 s once the machine was busy, and
  // the run ended as a hang before boot. 30 s leaves boot room there.
  constexpr int kStall = 30;
  auto r = test::run_cli({"run", "--host=kvm", "--timeout", "300", "--stall-timeout", std::to_string(kStall), "--append",
                          "ktstr.test_hang=1", "--out", dir.string(), "--json", (dir / "r.json").string()});
  INFO(r.output);
  auto j = test::read_json(dir / "r.json");
  REQUIRE(j.is_object());
  CHECK(r.exit_code == cli::exit_guest_hang);
  CHECK(j["vm_end"]["how"] == "hang");
  // The agent's last lines follow boot_done closely; the watchdog must end the run within
  // the stall timeout + 2 s of them, and long before the 300 s run deadline.
  REQUIRE(j["boot"].is_object());
  const double agent_up = j["boot"]["host_to_agent_s"].get<double>();
  CHECK(j["vm_end"]["elapsed_s"].get<double>() <= agent_up + 1 + kStall + 2);
  CHECK_THAT(r.output, Catch::Contains("no guest output or heartbeat"));
}
