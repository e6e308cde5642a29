// A remote worker on live guests (needs /dev/kvm: run inside the nested host here): a
// `ktstr-actors worker` on loopback runs an experiment's VMs: the fixture kernel, a
// sched_ext scheduler and a payload sent by content, the results back as a local run's.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>

#include "apps/cli/base/exit_codes.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/files.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/support/worker_process.hpp"

using namespace ktstr;

TEST_CASE("worker: an experiment's VMs run on a remote worker (kernel, scx_simple and a hackbench payload sent by "
          "content) and come back judged, with their console and result", "[experiment][remote][scx][payload]") {
  const auto fixture = test::require_scx_fixture();
  const auto dir = test::scratch_dir("worker-kvm");
  auto w = test::start_worker({"--cache", (dir / "worker").string()}, dir / "worker.log");
  REQUIRE(w->port);
  const auto file = dir / "remote.toml";
  std::ofstream(file) << "name = \"remote\"\n"
                         "[defaults]\n"
                         "kernel = \"" << fixture.kernel.string() << "\"\n"
                         "[[vm]]\nname = \"eevdf\"\n"
                         "[[vm]]\nname = \"simple\"\nscheduler = \"" << (fixture.schedulers / "scx_simple").string() << "\"\n"
                         "scenario = \"steady\"\npayload = [\"hackbench\", \"-g\", \"1\", \"-l\", \"50\"]\n";
  auto r = test::run_cli({"experiment", file.string(), "--host", "kvm", "--jobs", "0", "--workers", w->address(),
                          "--out", (dir / "out").string(), "--json", (dir / "x.json").string()});
  INFO(r.output << "\n--- worker:\n" << w->output());
  CHECK(r.exit_code == cli::exit_pass);
  const auto j = test::read_json(dir / "x.json");
  REQUIRE(j.is_object());
  REQUIRE(j["vms"].size() == 2);
  for (const auto& v : j["vms"]) {
    INFO(v.dump().substr(0, 2000));
    CHECK(v["met"] == true);
    CHECK(v["where"]["host"] == "worker " + w->address());
    CHECK(v["result"]["verdict"] == "pass");
    CHECK(v["result"]["topology"].is_object());
  }
  const auto& simple = j["vms"][1]["result"];
  CHECK(simple["scenario"]["scheduler"].dump().find("scx_simple") != std::string::npos);
  const auto& payloads = simple["scenario"]["payloads"];
  REQUIRE(payloads.size() == 1);
  CHECK(payloads[0]["name"] == "hackbench");
  CHECK(payloads[0]["exit_code"] == 0);
  CHECK(payloads[0]["metrics"]["time_s"].get<double>() > 0);
  // The run's own output came back beside its result, as a local run's does.
  CHECK_FALSE(test::slurp(dir / "out" / "simple" / "run.log").empty());
  CHECK(test::read_json(dir / "out" / "simple" / "result.json")["verdict"] == "pass");
  // The kernel went over once; the second VM found it in the worker's cache.
  CHECK_THAT(w->output(), Catch::Contains("(simple) accepted from"));
  CHECK_THAT(w->output(), Catch::Contains("2 file(s) to receive"));
}
