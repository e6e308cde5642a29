// Bad input to `ktstr-actors run` gets one clear line and a distinct exit code, before
// anything boots (so these run without KVM).
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>

#include "apps/cli/base/exit_codes.hpp"
#include "apps/cli/commands/run_checks.hpp"
#include "kvm/memory_layout.hpp"
#include "apps/protocol/plan_limits.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/fake_bzimage.hpp"

using namespace ktstr;
using namespace ktstr::cli;

namespace {
test::CliResult run_with(std::vector<std::string> args) {
  std::vector<std::string> all{"run", "--host=kvm"};
  all.insert(all.end(), args.begin(), args.end());
  // Point the fallbacks nowhere so no test can start a real VM by accident.
  return test::run_cli(all, {"KTSTR_KVM_DEVICE=/nonexistent/kvm", "KTSTR_QEMU=/nonexistent/qemu"}, 60);
}
std::filesystem::path fake_kernel(const std::string& name, test::FakeBzImageSpec spec = {}) {
  auto path = test::scratch_dir("input") / name;
  test::write_file(path, test::fake_bzimage(spec));
  return path;
}
}  // namespace

TEST_CASE("a missing kernel file is an input error with its exit code") {
  auto r = run_with({"--kernel", "/nonexistent/vmlinuz"});
  CHECK(r.exit_code == exit_kernel_image);
  CHECK_THAT(r.output, Catch::Contains("does not exist"));
}

TEST_CASE("a file that is not a bzImage is refused") {
  auto path = test::scratch_dir("input") / "notakernel";
  test::write_file(path, std::vector<uint8_t>(8192, 'x'));
  auto r = run_with({"--kernel", path.string()});
  CHECK(r.exit_code == exit_kernel_image);
  CHECK_THAT(r.output, Catch::Contains("not a bzImage"));
}

TEST_CASE("an unsupported boot protocol is refused") {
  test::FakeBzImageSpec old;
  old.protocol = 0x0204;
  auto r = run_with({"--kernel", fake_kernel("old", old).string()});
  CHECK(r.exit_code == exit_boot_protocol);
  CHECK_THAT(r.output, Catch::Contains("boot protocol"));
}

TEST_CASE("zero, inconsistent and malformed topologies are refused") {
  auto kernel = fake_kernel("ok").string();
  CHECK(run_with({"--kernel", kernel, "--topology", "1,1,0,1"}).exit_code == exit_topology);
  auto r = run_with({"--kernel", kernel, "--topology", "2,3,2,1"});
  CHECK(r.exit_code == exit_topology);
  CHECK_THAT(r.output, Catch::Contains("cannot be split evenly"));
  CHECK(run_with({"--kernel", kernel, "--topology", "1,x"}).exit_code == exit_topology);
}

TEST_CASE("more vCPUs than supported are refused") {
  auto r = run_with({"--kernel", fake_kernel("ok").string(), "--topology", "1,1,200,1"});
  CHECK(r.exit_code == exit_too_many_vcpus);
  CHECK_THAT(r.output, Catch::Contains("at most 128"));
}

TEST_CASE("memory too small for the topology is refused") {
  auto r = run_with({"--kernel", fake_kernel("ok").string(), "--topology", "2,2,2,1", "--memory", "100"});
  CHECK(r.exit_code == exit_memory);
  CHECK_THAT(r.output, Catch::Contains("too small"));
}

TEST_CASE("no /dev/kvm and no nested host is its own exit code") {
  auto r = test::run_cli({"run", "--kernel", fake_kernel("ok").string(), "--out",
                          test::scratch_dir("nohost").string()},
                         {"KTSTR_KVM_DEVICE=/nonexistent/kvm", "KTSTR_QEMU=/nonexistent/qemu"}, 60);
  CHECK(r.exit_code == exit_no_host);
  CHECK_THAT(r.output, Catch::Contains("no /dev/kvm and no nested host"));
}

TEST_CASE("unknown flags are usage errors") {
  auto r = test::run_cli({"run", "--frobnicate"});
  CHECK(r.exit_code == exit_usage);
}

TEST_CASE("an unknown scenario name is an input error listing the built-in ones") {
  auto r = run_with({"--kernel", fake_kernel("k").string(), "--scenario", "no-such-scenario"});
  CHECK(r.exit_code == exit_scenario);
  CHECK_THAT(r.output, Catch::Contains("no-such-scenario"));
  CHECK_THAT(r.output, Catch::Contains("steady"));
}

TEST_CASE("a bad scenario file is an input error naming file, line and field") {
  const auto kernel = fake_kernel("k");  // before the file: scratch_dir starts afresh
  auto path = kernel.parent_path() / "bad.toml";
  std::ofstream(path) << "name = \"bad\"\nduration_s = 5\n[[cgroup]]\nname = \"a\"\nworkers = [ { type = \"spin\", count = 0 } ]\n";
  auto r = run_with({"--kernel", kernel.string(), "--scenario", path.string()});
  CHECK(r.exit_code == exit_scenario);
  CHECK_THAT(r.output, Catch::Contains(path.string() + ":5:"));
  CHECK_THAT(r.output, Catch::Contains("count"));
}

TEST_CASE("a missing or unusable scheduler file is an input error with its exit code") {
  auto missing = run_with({"--kernel", fake_kernel("k").string(), "--scheduler", "/nonexistent/scx_simple"});
  CHECK(missing.exit_code == exit_scheduler);
  CHECK_THAT(missing.output, Catch::Contains("/nonexistent/scx_simple does not exist"));
  const auto kernel = fake_kernel("k");
  auto text = kernel.parent_path() / "not-a-program";
  std::ofstream(text) << "hello\n";
  std::filesystem::permissions(text, std::filesystem::perms::owner_all);
  auto not_elf = run_with({"--kernel", kernel.string(), "--scheduler", text.string()});
  CHECK(not_elf.exit_code == exit_scheduler);
  CHECK_THAT(not_elf.output, Catch::Contains("not an ELF file"));
}

TEST_CASE("arguments after -- without --scheduler are a usage error") {
  auto r = run_with({"--kernel", fake_kernel("k").string(), "--", "-v"});
  CHECK(r.exit_code == exit_usage);
  CHECK_THAT(r.output, Catch::Contains("--scheduler"));
}

TEST_CASE("list names every built-in scenario with its expected verdict") {
  auto r = test::run_cli({"list", "--json"});
  REQUIRE(r.exit_code == exit_pass);
  auto j = nlohmann::json::parse(r.output, nullptr, false);
  REQUIRE(j.is_array());
  CHECK(j.size() >= 12);
  bool rt = false;
  for (const auto& e : j)
    if (e["name"] == "rt-starvation") rt = e["expect"] == "fail";
  CHECK(rt);
}

TEST_CASE("assert overrides take known checks with valid values only") {
  const auto kernel = fake_kernel("k");
  auto bad_value = run_with({"--kernel", kernel.string(), "--scenario", "steady", "--assert", "max_gap_ms=soon"});
  CHECK(bad_value.exit_code == exit_usage);
  CHECK_THAT(bad_value.output, Catch::Contains("max_gap_ms=soon: expected a number"));
  auto unknown = run_with({"--kernel", kernel.string(), "--scenario", "steady", "--assert", "latency=5"});
  CHECK(unknown.exit_code == exit_usage);
  CHECK_THAT(unknown.output, Catch::Contains("unknown check"));
}

TEST_CASE("scheduler arguments beyond what the guest agent takes are a usage error before anything boots") {
  const auto kernel = fake_kernel("args-bzImage");
  std::vector<std::string> args{"--kernel", kernel.string(), "--scheduler", "/bin/true", "--"};
  for (std::size_t i = 0; i <= ktstr::protocol::kMaxSchedulerArgs; ++i) args.push_back("-v");
  auto r = run_with(args);
  INFO(r.output);
  CHECK(r.exit_code == exit_usage);
  CHECK_THAT(r.output, Catch::Contains("65 scheduler arguments after --, at most 64"));

  auto r2 = run_with({"--kernel", kernel.string(), "--scheduler", "/bin/true", "--",
                      std::string(ktstr::protocol::kMaxSchedulerArgBytes + 1, 'x')});
  INFO(r2.output);
  CHECK(r2.exit_code == exit_usage);
  CHECK_THAT(r2.output, Catch::Contains("longer than 4096 bytes"));
}

TEST_CASE("option values that cannot work are refused before an output directory or a VM exists") {
  const auto kernel = fake_kernel("upfront");
  const auto out = test::scratch_dir("upfront") / "out";
  struct Case {
    std::vector<std::string> args;
    int code;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"--timeout", "0"}, exit_usage, "--timeout 0: the run deadline must be at least 1 second"},
      {{"--timeout", "10", "--freeze-at", "500"}, exit_usage, "--freeze-at 500 is not before the run deadline (10 s"},
      {{"--freeze-at", "-1"}, exit_usage, "--freeze-at -1: a time in seconds, 0 or more"},
      {{"--timeout", "1", "--snapshots", "1000000"}, exit_usage, "--snapshots 1000000: at most 1000"},
      {{"--json", "/nonexistent/dir/r.json"}, exit_usage, "--json /nonexistent/dir/r.json: directory /nonexistent/dir does not exist"},
      {{"--append", std::string(10000, 'a')}, exit_boot_protocol, "kernel command line is"},
      {{"--scenario", ""}, exit_usage, "--scenario needs a built-in name"},
      {{"--scenario", "/nonexistent/s.toml"}, exit_scenario, "scenario file /nonexistent/s.toml: no such file"},
  };
  // More memory than this host has (and less than the VMM's own limit, which says so itself).
  const auto host = ktstr::cli::host_memory_mib();
  REQUIRE(host);
  const std::string more = std::to_string(*host + 4096);
  std::vector<Case> all = cases;
  if (*host + 4096 <= ktstr::kvm::MemoryLayout::kMaxMiB)
    all.push_back({{"--memory", more}, exit_memory, "--memory " + more + " MiB is more than this host has"});
  for (const auto& c : all) {
    std::vector<std::string> args{"--kernel", kernel.string(), "--out", out.string()};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto r = run_with(args);
    INFO(c.args[0] << ": " << r.output);
    CHECK(r.exit_code == c.code);
    CHECK_THAT(r.output, Catch::Contains(c.says));
    CHECK_FALSE(std::filesystem::exists(out));
    CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);  // one line
  }
}

TEST_CASE("assert overrides take the ranges a scenario file's [assert] takes") {
  const auto kernel = fake_kernel("assert-range");
  auto zero = run_with({"--kernel", kernel.string(), "--scenario", "steady", "--assert", "max_gap_ms=0"});
  CHECK(zero.exit_code == exit_usage);
  CHECK_THAT(zero.output, Catch::Contains("--assert max_gap_ms=0: expected a number in 1..3600000"));
  auto wide = run_with({"--kernel", kernel.string(), "--scenario", "steady", "--assert", "fairness_spread_pct=1000"});
  CHECK(wide.exit_code == exit_usage);
  CHECK_THAT(wide.output, Catch::Contains("expected a number in 0..100"));
  // The monitor's thresholds, with theirs.
  auto stall = run_with({"--kernel", kernel.string(), "--scenario", "steady", "--assert", "predicted_stall_pct=0"});
  CHECK(stall.exit_code == exit_usage);
  CHECK_THAT(stall.output, Catch::Contains("--assert predicted_stall_pct=0: expected a number in 1..100"));
  auto imbalance = run_with({"--kernel", kernel.string(), "--scenario", "steady", "--assert", "imbalance_ms=50"});
  CHECK(imbalance.exit_code == exit_usage);
  CHECK_THAT(imbalance.output, Catch::Contains("--assert imbalance_ms=50: expected a number in 100..3600000"));
}

TEST_CASE("a scenario file over 1 MiB is refused before it is read") {
  const auto dir = test::scratch_dir("big-scenario");
  const auto file = dir / "big.toml";
  std::ofstream(file) << "name = \"big\"\n# " << std::string(2 * 1024 * 1024, 'x') << "\n";
  auto r = run_with({"--kernel", fake_kernel("big-k").string(), "--scenario", file.string()});
  CHECK(r.exit_code == exit_scenario);
  CHECK_THAT(r.output, Catch::Contains("a scenario file is at most 1024 KiB"));
}

TEST_CASE("an unknown kernel name points at kernel list instead of a path in the working directory") {
  auto r = run_with({"--kernel", "linux-9.99-nope"});
  CHECK(r.exit_code == exit_kernel_image);
  CHECK_THAT(r.output, Catch::Contains("kernel \"linux-9.99-nope\": no such file here and no cached kernel"));
  CHECK_THAT(r.output, Catch::Contains("ktstr-actors kernel list"));
}
