// Scenario runs on real kernels (needs /dev/kvm: run inside the nested host here): the
// built-in catalog under the kernel's own scheduler, a scenario built to starve, and a
// real sched_ext scheduler passing, dying, or meeting a kernel without sched_ext.
#include <catch2/catch.hpp>

#include <algorithm>

#include "apps/cli/base/exit_codes.hpp"
#include "apps/cli/kernel/kernel_cache.hpp"
#include "apps/cli/scenario/scenario_catalog.hpp"
#include "kvm/host_quirks.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/fixtures.hpp"

using namespace ktstr;
using namespace ktstr::cli;

namespace {

struct ScenarioRun {
  test::CliResult cli;
  nlohmann::json json;
};

// Two vCPUs by default: in the emulated nested host a guest vCPU that spins with
// interrupts off waiting for another one can take an outer CPU for good, and with 4
// vCPUs that was seen to hang a catalog run; with 2 of 4 outer CPUs there is headroom.
ScenarioRun run_scenario(const std::string& name, std::vector<std::string> extra = {},
                         const std::string& topology = "1,1,2,1") {
  auto dir = test::scratch_dir("scenario-" + name);
  std::vector<std::string> args{"run", "--host=kvm", "--topology", topology, "--scenario", name,
                                "--out", dir.string(), "--json", (dir / "r.json").string(),
                                "--junit", (dir / "junit.xml").string()};
  args.insert(args.end(), extra.begin(), extra.end());
  ScenarioRun r{test::run_cli(args), nullptr};
  r.json = test::read_json(dir / "r.json");
  return r;
}

std::string expected_name(const CatalogEntry& e) { return std::string(to_string(e.expect)); }

// The emulated nested host (QEMU TCG) stops whole vCPUs for seconds and is slow to
// migrate tasks after a cpuset change: there, the timing checks would judge the
// emulator. They are relaxed for the catalog tests only (docs/nested-host.md: known limits); the
// checks themselves are unit-tested, and the rt-starvation test below keeps its own.
void check_catalog_entry(const std::string& name) {
  const auto& catalog = builtin_scenarios();
  const auto entry = std::find_if(catalog.begin(), catalog.end(), [&](const auto& e) { return e.name == name; });
  REQUIRE(entry != catalog.end());
  std::vector<std::string> relaxed;
  if (kvm::detect_host_quirks().xsetbv_not_intercepted)
    relaxed = {"--assert", "max_gap_ms=10000", "--assert", "isolation=false", "--assert", "fairness_spread_pct=30"};
  auto r = run_scenario(entry->name, relaxed);
  INFO(r.cli.output);
  REQUIRE(r.json.is_object());
  CHECK(r.json["verdict"] == expected_name(*entry));
  CHECK(r.json["scenario"]["verdict"] == expected_name(*entry));
  CHECK(r.json["vm_end"]["how"] == "power-off");
}

// One ctest test per scenario (a nested host that breaks mid-catalog then costs one
// scenario, not the catalog); the test below checks they name every built-in scenario.
#define KTSTR_CATALOG_PREFIX "catalog on Debian 6.1: "
#define KTSTR_CATALOG_SUFFIX " gives its documented verdict"

}  // namespace

TEST_CASE("catalog tests below cover every built-in scenario", "[scenario]") {
  const std::string prefix = KTSTR_CATALOG_PREFIX, suffix = KTSTR_CATALOG_SUFFIX;
  std::vector<std::string> tested;
  for (const auto& test : Catch::getRegistryHub().getTestCaseRegistry().getAllTests()) {
    const std::string& n = test.name;
    if (n.size() > prefix.size() + suffix.size() && n.rfind(prefix, 0) == 0 &&
        n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0)
      tested.push_back(n.substr(prefix.size(), n.size() - prefix.size() - suffix.size()));
  }
  std::vector<std::string> names;
  for (const auto& e : builtin_scenarios()) names.push_back(e.name);
  std::sort(names.begin(), names.end());
  std::sort(tested.begin(), tested.end());
  CHECK(names == tested);
}

#define KTSTR_CATALOG_TEST(NAME) \
  TEST_CASE(KTSTR_CATALOG_PREFIX NAME KTSTR_CATALOG_SUFFIX, "[scenario][catalog]") { check_catalog_entry(NAME); }
KTSTR_CATALOG_TEST("affinity-change")
KTSTR_CATALOG_TEST("cgroup-add-remove")
KTSTR_CATALOG_TEST("cpuset-apply")
KTSTR_CATALOG_TEST("cpuset-clear")
KTSTR_CATALOG_TEST("cpuset-resize")
KTSTR_CATALOG_TEST("host-contention")
KTSTR_CATALOG_TEST("mixed")
KTSTR_CATALOG_TEST("nested-cgroups")
KTSTR_CATALOG_TEST("oversubscribed")
KTSTR_CATALOG_TEST("pingpong")
KTSTR_CATALOG_TEST("rt-starvation")
KTSTR_CATALOG_TEST("steady")
KTSTR_CATALOG_TEST("steady-llc")

TEST_CASE("an RT hog starves a normal worker pinned to its CPU: fail naming worker and CPU", "[scenario]") {
  auto r = run_scenario("rt-starvation");
  INFO(r.cli.output);
  CHECK(r.cli.exit_code == exit_fail);
  REQUIRE(r.json.is_object());
  bool named = false;
  for (const auto& f : r.json["scenario"]["findings"]) {
    if (f["verdict"] != "fail") continue;
    if (f.contains("worker") && !f["worker"].is_null() && f.contains("cpu") && !f["cpu"].is_null()) named = true;
  }
  CHECK(named);
  CHECK_THAT(r.cli.output, Catch::Contains("verdict: FAIL"));
}

TEST_CASE("a scheduler on a kernel without sched_ext is a skip naming CONFIG_SCHED_CLASS_EXT", "[scenario]") {
  auto fixture = test::find_scx_fixture();
  // Any dynamically linked program stands in: the agent must refuse before starting it.
  const std::string scheduler = fixture ? (fixture->schedulers / "scx_simple").string() : "/bin/true";
  auto r = run_scenario("steady", {"--scheduler", scheduler});
  INFO(r.cli.output);
  CHECK(r.cli.exit_code == exit_pass);
  REQUIRE(r.json.is_object());
  CHECK(r.json["verdict"] == "skip");
  CHECK_THAT(r.cli.output, Catch::Contains("CONFIG_SCHED_CLASS_EXT"));

  // With --fail-on-skip the same run is not a pass: CI sees that nothing was tested.
  auto strict = run_scenario("steady", {"--scheduler", scheduler, "--fail-on-skip"});
  INFO(strict.cli.output);
  CHECK(strict.cli.exit_code == exit_skip);
  REQUIRE(strict.json.is_object());
  CHECK(strict.json["verdict"] == "skip");
  CHECK(strict.json["exit_code"] == exit_skip);
}

TEST_CASE("scx_simple on a sched_ext kernel passes steady", "[scenario][scx]") {
  const auto fixture = test::require_scx_fixture();
  // Two vCPUs, as the fixture was seen working: with more, the emulated nested host
  // (QEMU TCG) now and then runs stale code while sched_ext flips its static keys
  // ("Oops: int3" in __schedule, README: known limits). Real KVM has no such limit.
  auto r = run_scenario("steady", {"--kernel", fixture.kernel.string(), "--scheduler",
                                   (fixture.schedulers / "scx_simple").string()}, "1,1,2,1");
  INFO(r.cli.output);
  CHECK(r.cli.exit_code == exit_pass);
  REQUIRE(r.json.is_object());
  CHECK(r.json["verdict"] == "pass");
  CHECK_THAT(r.cli.output, Catch::Contains("scheduler enabled"));
}

TEST_CASE("a sched_ext scheduler that dies after 2 s fails with 'scheduler died'", "[scenario][scx]") {
  const auto fixture = test::require_scx_fixture();
  auto r = run_scenario("steady", {"--kernel", fixture.kernel.string(), "--append", "ktstr.test_kill_scheduler_ms=2000",
                                   "--scheduler", (fixture.schedulers / "scx_simple").string()}, "1,1,2,1");
  INFO(r.cli.output);
  CHECK(r.cli.exit_code == exit_fail);
  CHECK_THAT(r.cli.output, Catch::Contains("scheduler died"));
}
