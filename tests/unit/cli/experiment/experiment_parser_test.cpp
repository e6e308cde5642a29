// Experiment files: defaults, VMs, matrix expansion with generated names, comparisons, and
// every problem as one "FILE:LINE: field: problem" line.
#include <catch2/catch.hpp>

#include "apps/cli/experiment/experiment_catalog.hpp"
#include "apps/cli/experiment/experiment_parser.hpp"

using namespace ktstr::cli;

namespace {

std::string error_of(const std::string& text) {
  try {
    parse_experiment(text, "x.toml", "/exp");
  } catch (const ScenarioError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("experiment: defaults, VMs and a matrix expand into named runs with paths from the file's folder") {
  auto x = parse_experiment(R"(name = "ab"
description = "A/B"
jobs = 3
[defaults]
kernel = "linux-6.12"
scenario = "steady"
timeout = 40
[[vm]]
name = "eevdf"
[[vm]]
name = "simple"
scheduler = "bin/scx_simple"
args = ["-v"]
repeat = 3
expect = "fail"
expect_finding = "predicted stall"
faults = ["vcpu_stall:1@5+3"]
[[matrix]]
name = "grid"
topologies = ["1,1,2,1", "1,2,2,1"]
schedulers = ["eevdf", "/opt/scx_qmap"]
[compare]
baseline = "eevdf"
metrics = ["work_units", "max_gap_ms"]
worse_pct = 5
fail_on_worse = true
)",
                            "x.toml", "/exp");
  CHECK(x.name == "ab");
  CHECK(x.jobs == 3u);
  REQUIRE(x.vms.size() == 6);
  CHECK(x.vms[0].name == "eevdf");
  CHECK(x.vms[0].scheduler.empty());
  CHECK(x.vms[0].kernel == "linux-6.12");  // a cached name stays a name
  CHECK(x.vms[0].timeout_s == 40);
  CHECK(x.vms[1].scheduler == "/exp/bin/scx_simple");
  CHECK(x.vms[1].scheduler_args == std::vector<std::string>{"-v"});
  CHECK(x.vms[1].repeat == 3);
  CHECK(x.vms[1].expect == ExpectedOutcome::fail);
  CHECK(x.vms[1].expect_finding == "predicted stall");
  CHECK(x.vms[1].faults == std::vector<std::string>{"vcpu_stall:1@5+3"});
  CHECK(x.vms[2].name == "grid-1_1_2_1-eevdf");
  CHECK(x.vms[3].name == "grid-1_1_2_1-scx_qmap");
  CHECK(x.vms[3].scheduler == "/opt/scx_qmap");
  CHECK(x.vms[5].name == "grid-1_2_2_1-scx_qmap");
  CHECK(x.vms[5].topology == "1,2,2,1");
  CHECK(x.vms[5].scenario == "steady");  // from [defaults]
  REQUIRE(x.compare);
  CHECK(x.compare->baseline == "eevdf");
  CHECK(x.compare->metrics == std::vector<std::string>{"work_units", "max_gap_ms"});
  CHECK(x.compare->worse_pct == 5);
  CHECK(x.compare->fail_on_worse);
}

TEST_CASE("experiment: each kind of bad file names file, line and field") {
  const std::string vm = "name = \"e\"\n[[vm]]\nname = \"a\"\n";  // lines 1-3
  CHECK(error_of("name = \"e\"\n") == "x.toml:1: no VMs: add [[vm]] tables or a [[matrix]]");
  CHECK(error_of("name = \"e\"\n[[vm]]\nname = \"a\"\ncpus = 3\n") ==
        "x.toml:4: vm[0].cpus: unknown key (expected one of: name, kernel, topology, memory, scheduler, args, scenario, "
        "timeout, repeat, expect, expect_finding, faults, payload)");
  CHECK(error_of(vm + "payload = []\n") == "x.toml:4: vm[0].payload: a payload needs a program: [\"hackbench\", ...]");
  CHECK(error_of(vm + "payload = [\"hackbench\", 4]\n") == "x.toml:4: vm[0].payload: expected strings, got an integer");
  CHECK(error_of(vm + "[[vm]]\nname = \"a\"\n") == "x.toml:5: vm[1].name: \"a\" is already a VM of this experiment");
  CHECK(error_of(vm + "expect = \"ok\"\n") == "x.toml:4: vm[0].expect: \"ok\" is not one of: pass, fail, inconclusive, any");
  CHECK(error_of(vm + "repeat = 0\n") == "x.toml:4: vm[0].repeat: 0 is out of range (1..50)");
  CHECK(error_of("name = \"e\"\n[[vm]]\nname = \"a b\"\n") ==
        "x.toml:3: vm[0].name: \"a b\" must be 1-64 characters of [A-Za-z0-9_.-]");
  CHECK(error_of(vm + "[compare]\nbaseline = \"b\"\n") == "x.toml:5: compare.baseline: \"b\" is not a VM of this experiment");
  CHECK_THAT(error_of(vm + "[compare]\nbaseline = \"a\"\nmetrics = [\"speed\"]\n"),
             Catch::StartsWith("x.toml:6: compare.metrics: unknown metric \"speed\" (one of: work_units,"));
  CHECK(error_of("name = \"e\"\n[[matrix]]\nname = \"m\"\ntopologies = []\n") == "x.toml:4: matrix[0].topologies: empty list");
  CHECK(error_of("name = \"e\"\n[[vm]]\nname = \"a\"\nrepeat = 50\n[[vm]]\nname = \"b\"\nrepeat = 50\n"
                 "[[vm]]\nname = \"c\"\nrepeat = 50\n[[vm]]\nname = \"d\"\nrepeat = 50\n[[vm]]\nname = \"f\"\nrepeat = 50\n"
                 "[[vm]]\nname = \"g\"\nrepeat = 50\n") == "x.toml:1: 300 VM runs after expansion and repeats, at most 256");
  CHECK_THAT(error_of("name = \"e\"\n[[vm]\n"), Catch::StartsWith("x.toml:2: syntax: "));
  CHECK(error_of("name = \"e\"\n[defaults]\nname = \"x\"\n[[vm]]\nname = \"a\"\n") ==
        "x.toml:3: defaults.name: a default name would give every VM the same name");
}

TEST_CASE("experiment: faults are checked where they are written: the grammar, then the VM's vCPUs and overlaps") {
  const std::string vm = "name = \"e\"\n[[vm]]\nname = \"a\"\n";  // lines 1-3
  CHECK(error_of(vm + "faults = [\"nmi:1\"]\n") == "x.toml:4: vm[0].faults: nmi:1: expected nmi:VCPU@AT, e.g. nmi:1@5");
  CHECK(error_of(vm + "faults = [\"kick_loss:1@5+0\"]\n") ==
        "x.toml:4: vm[0].faults: kick_loss:1@5+0: the count after '+' is 1 to 100000 kicks");
  // The default topology has 2 vCPUs; a matrix cell with 4 takes vCPU 3.
  CHECK(error_of(vm + "faults = [\"nmi:3@5\"]\n") ==
        "x.toml:4: vm[0].faults: VM a: nmi:3@5: no vCPU 3: the topology has 2 (0..1)");
  CHECK(error_of(vm + "faults = [\"vcpu_stall:1@5+3\", \"vcpu_jitter:1@6+2/100:10\"]\n") ==
        "x.toml:4: vm[0].faults: VM a: vcpu_jitter:1@6+2/100:10: overlaps vcpu_stall:1@5+3 on the same vCPU");
  CHECK(error_of("name = \"e\"\n[[matrix]]\nname = \"m\"\ntopologies = [\"1,1,4,1\", \"1,1,2,1\"]\n"
                 "faults = [\"nmi:3@5\"]\n") ==
        "x.toml:5: matrix[0].faults: VM m-1_1_2_1: nmi:3@5: no vCPU 3: the topology has 2 (0..1)");
  CHECK(error_of(vm + "faults = [\"guest_write:scx_watchdog_timeout=1@5\", \"nmi:1@2\"]\n") == "");
}

TEST_CASE("experiment: every built-in experiment parses") {
  REQUIRE_FALSE(builtin_experiments().empty());
  for (const auto& e : builtin_experiments()) {
    INFO(e.file);
    auto x = parse_experiment(e.source, e.file, "");
    CHECK(x.name == e.name);
    CHECK_FALSE(x.vms.empty());
  }
}

TEST_CASE("experiment: workers as a list or a [workers] table (addresses, retry, credentials from the file's folder) - a "
          "bad address names file, line and field") {
  const std::string vms = "[[vm]]\nname = \"a\"\n";
  auto x = parse_experiment("name = \"e\"\nworkers = [\"h1:7420\", \"[::1]:7421\"]\nretry = 1\n" + vms, "x.toml", "/etc/p");
  CHECK(x.workers == std::vector<std::string>{"h1:7420", "[::1]:7421"});
  CHECK(x.retry == 1u);
  CHECK(x.worker_cert.empty());
  auto t = parse_experiment("name = \"e\"\n[workers]\naddresses = [\"h1:7420\"]\nretry = 2\ncert = \"pool/client.crt\"\n"
                            "key = \"pool/client.key\"\nca = \"/etc/ktstr/ca.crt\"\n" + vms,
                            "x.toml", "/etc/p");
  CHECK(t.workers == std::vector<std::string>{"h1:7420"});
  CHECK(t.retry == 2u);
  CHECK(t.worker_cert == "/etc/p/pool/client.crt");
  CHECK(t.worker_key == "/etc/p/pool/client.key");
  CHECK(t.worker_ca == "/etc/ktstr/ca.crt");
  CHECK_THAT(error_of("name = \"e\"\nworkers = [\"h1\"]\n" + vms), Catch::StartsWith("x.toml:2: workers: "));
  CHECK_THAT(error_of("name = \"e\"\n[workers]\naddresses = [\"h1:99999\"]\n" + vms),
             Catch::StartsWith("x.toml:3: workers.addresses: "));
  CHECK(error_of("name = \"e\"\nretry = 9\n" + vms) == "x.toml:2: retry: 9 is out of range (0..5)");
  CHECK_THAT(error_of("name = \"e\"\n[workers]\nhosts = []\n" + vms), Catch::StartsWith("x.toml:3: workers.hosts: unknown key"));
}
