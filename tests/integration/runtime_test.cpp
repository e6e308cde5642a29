// The actor runtime on a live guest (needs /dev/kvm: runs inside the nested host here).
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "apps/cli/exit_codes.hpp"
#include "tests/support/cli.hpp"

using namespace ktstr;

namespace {
std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
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
}

TEST_CASE("a guest told to hang is ended by the watchdog within its stall deadline + 2 s", "[runtime]") {
  auto dir = test::scratch_dir("hangwd");
  auto r = test::run_cli({"run", "--host=kvm", "--timeout", "300", "--stall-timeout", "10", "--append",
                          "ktstr.test_hang=1", "--out", dir.string(), "--json", (dir / "r.json").string()});
  INFO(r.output);
  auto j = test::read_json(dir / "r.json");
  REQUIRE(j.is_object());
  CHECK(r.exit_code == cli::exit_guest_hang);
  CHECK(j["vm_end"]["how"] == "hang");
  // The agent's last lines follow boot_done closely; the watchdog must end the run within
  // the stall timeout (10 s) + 2 s of them, and long before the 300 s run deadline.
  const double agent_up = j["boot"]["host_to_agent_s"].get<double>();
  CHECK(j["vm_end"]["elapsed_s"].get<double>() <= agent_up + 1 + 10 + 2);
  CHECK_THAT(r.output, Catch::Contains("no guest output or heartbeat"));
}
