// Boots real kernels in our VMM (needs /dev/kvm: run inside the nested host here) and
// checks what the guest sees against what was declared, field by field.
#include <catch2/catch.hpp>

#include "apps/cli/base/environment.hpp"
#include "apps/cli/base/exit_codes.hpp"
#include "apps/cli/kernel/kernel_cache.hpp"
#include "kvm/hex.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/fake_bzimage.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include "apps/cli/process/child_process.hpp"

using namespace ktstr;
using namespace ktstr::cli;

namespace {

struct Booted {
  test::CliResult cli;
  nlohmann::json json;
};

Booted boot(const std::string& kernel, const std::string& topology, std::vector<std::string> extra = {}) {
  auto dir = test::scratch_dir("boot-" + topology);
  std::vector<std::string> args{"run", "--host=kvm", "--kernel", kernel, "--topology", topology,
                                "--out", dir.string(), "--json", (dir / "r.json").string()};
  args.insert(args.end(), extra.begin(), extra.end());
  Booted b{test::run_cli(args), nullptr};
  b.json = test::read_json(dir / "r.json");
  INFO(b.cli.output);
  return b;
}

void expect_declared_topology(const std::string& kernel, const std::string& topology, size_t vcpus) {
  auto b = boot(kernel, topology);
  INFO(b.cli.output);
  REQUIRE(b.cli.exit_code == exit_pass);
  REQUIRE(b.json.is_object());
  CHECK(b.json["verdict"] == "pass");
  CHECK(b.json["declared"]["vcpus"] == vcpus);
  CHECK(b.json["topology"]["mismatches"].empty());
  CHECK(b.json["topology"]["observed"]["cpus"].size() == vcpus);
  CHECK(b.json["vm_end"]["how"] == "power-off");
  CHECK(b.json["boot"]["host_to_agent_s"].get<double>() > 0);
}

std::string debian_61() { return cached_kernel(Environment::from_process().cache_dir, "default").value_or("missing-debian-6.1").string(); }

}  // namespace

TEST_CASE("Debian 6.1 sees topology 1,1,1,1 as declared", "[boot]") { expect_declared_topology(debian_61(), "1,1,1,1", 1); }
TEST_CASE("Debian 6.1 sees topology 1,1,2,2 as declared", "[boot]") { expect_declared_topology(debian_61(), "1,1,2,2", 4); }
TEST_CASE("Debian 6.1 sees topology 1,2,2,1 as declared", "[boot]") { expect_declared_topology(debian_61(), "1,2,2,1", 4); }
TEST_CASE("Debian 6.1 sees topology 2,2,2,1 as declared", "[boot]") { expect_declared_topology(debian_61(), "2,2,2,1", 4); }

TEST_CASE("Debian 6.12 sees topology 1,2,2,1 as declared", "[boot]") {
  auto k = cached_kernel(Environment::from_process().cache_dir, "linux-6.12");
  REQUIRE(k);  // scripts/setup.sh fetches it
  expect_declared_topology(k->string(), "1,2,2,1", 4);
}

TEST_CASE("a guest that never reaches the agent ends at the timeout with the console tail", "[boot]") {
  auto dir = test::scratch_dir("hang");
  auto kernel = dir / "halting-bzImage";
  test::write_file(kernel, test::fake_bzimage());
  auto r = test::run_cli({"run", "--host=kvm", "--kernel", kernel.string(), "--timeout", "5", "--out", dir.string()});
  INFO(r.output);
  CHECK(r.exit_code == exit_guest_timeout);
  CHECK_THAT(r.output, Catch::Contains("never reached the agent"));
  // Frozen before the stop: the halted BSP's state, no faulting vCPU.
  const auto j = test::read_json(dir / "result.json");
  REQUIRE(j.is_object());
  CHECK(j["vm_end"]["faulting_vcpu"].is_null());
  REQUIRE_FALSE(j["vm_end"]["vcpu_states"].empty());
  CHECK(j["vm_end"]["vcpu_states"][0]["vcpu"] == 0);
  const auto rip = j["vm_end"]["vcpu_states"][0]["rip"].get<std::string>();  // in the hlt; jmp loop
  CHECK((rip == "0x" + kvm::to_hex(test::kFakeEntry) || rip == "0x" + kvm::to_hex(test::kFakeEntry + 1)));
  // Soft stage at the 5 s deadline (no agent to answer), hard stop 10 s later; a few
  // seconds more for the CLI's own start-up and the report.
  CHECK(r.seconds < 5 + 10 + 5);
}

TEST_CASE("SIGTERM ends a running VM as a stop request, and its result is still written", "[boot]") {
  auto dir = test::scratch_dir("sigterm");
  auto kernel = dir / "halting-bzImage";
  test::write_file(kernel, test::fake_bzimage());
  const auto json = dir / "r.json";
  const pid_t pid = spawn_process(KTSTR_CLI_PATH, {"ktstr-actors", "run", "--host=kvm", "--kernel", kernel.string(),
                                                   "--timeout", "60", "--out", dir.string(), "--json", json.string()},
                                  {});
  std::this_thread::sleep_for(std::chrono::seconds(3));  // booted into the halting kernel by then
  const auto sent = std::chrono::steady_clock::now();
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  CHECK(std::chrono::steady_clock::now() - sent < std::chrono::seconds(20));
  CHECK(WIFEXITED(status));
  const auto r = test::read_json(json);
  REQUIRE(r.is_object());
  CHECK(r["vm_end"]["how"] == "stopped");
  CHECK(r["vm_end"]["detail"] == "stop requested");
}

TEST_CASE("a triple fault records every vCPU's state, the faulting vCPU first (rip at the int3, or KVM's reset named)",
          "[boot][death]") {
  auto dir = test::scratch_dir("triple-fault");
  auto kernel = dir / "triple-fault-bzImage";
  test::FakeBzImageSpec spec;
  spec.entry = test::FakeEntry::triple_fault;
  test::write_file(kernel, test::fake_bzimage(spec));
  auto r = test::run_cli({"run", "--host=kvm", "--kernel", kernel.string(), "--topology", "1,1,2,1", "--timeout", "20",
                          "--out", dir.string()});
  INFO(r.output);
  CHECK(r.exit_code == exit_guest_timeout);  // never reached the agent
  const auto j = test::read_json(dir / "result.json");
  REQUIRE(j.is_object());
  const auto& end = j["vm_end"];
  CHECK(end["how"] == "shutdown");
  CHECK(end["detail"] == "vCPU 0: triple fault");
  CHECK(end["faulting_vcpu"] == 0);
  REQUIRE(end["vcpu_states"].size() == 2);  // every vCPU
  CHECK(end["vcpu_states_missing"].empty());
  const auto& bsp = end["vcpu_states"][0];
  CHECK(bsp["vcpu"] == 0);
  CHECK(bsp["faulting"] == true);
  CHECK(bsp["unreadable"].empty());
  // Intel VMX keeps the state at the fault; KVM on AMD SVM (also the nested host's emulated
  // SVM) re-initializes the vCPU on the shutdown intercept, and the note says so.
  if (bsp["note"].is_null()) {
    CHECK(bsp["rip"] == "0x" + kvm::to_hex(test::kFakeTripleFaultRip));
    CHECK(bsp["idt"]["limit"] == "0x0");
    CHECK_THAT(r.output, Catch::Contains("vCPU 0 (faulting): rip 0x" + kvm::to_hex(test::kFakeTripleFaultRip)));
  } else {
    CHECK(bsp["rip"] == "0xfff0");
    CHECK_THAT(bsp["note"].get<std::string>(), Catch::Contains("reset this vCPU after the triple fault"));
    CHECK_THAT(r.output, Catch::Contains("vCPU 0 (faulting): rip 0xfff0"));
  }
  const auto& ap = end["vcpu_states"][1];
  CHECK(ap["vcpu"] == 1);
  CHECK(ap["faulting"] == false);
  CHECK(ap["lapic_id"] == 1);
  CHECK(ap["mp_state"] != "runnable");  // never started: still waiting for INIT/SIPI
}

TEST_CASE("a guest kernel panic is detected and its lines printed", "[boot]") {
  auto b = boot(debian_61(), "1,1,2,1", {"--append", "ktstr.test_panic=1"});
  INFO(b.cli.output);
  CHECK(b.cli.exit_code == exit_guest_panic);
  CHECK_THAT(b.cli.output, Catch::Contains("Kernel panic - not syncing"));
  REQUIRE(b.json.is_object());
  CHECK(b.json["verdict"] == "fail");
  CHECK_FALSE(b.json["panic_lines"].empty());
}
