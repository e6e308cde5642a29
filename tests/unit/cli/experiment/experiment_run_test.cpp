// The experiment runner without VMs: each run is a stand-in program (a shell script that
// answers like `ktstr-actors run`: a result.json and an exit code, or a crash), so the
// orchestrator's bound, isolation, streaming and stop can be checked here.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <map>
#include <thread>

#include "actors/runtime_config.hpp"
#include "apps/cli/base/exit_codes.hpp"
#include "apps/cli/experiment/orchestrator.hpp"
#include "apps/cli/process/child_process.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/files.hpp"

using namespace ktstr;
using namespace ktstr::cli;
namespace fs = std::filesystem;

namespace {

/// A stand-in for `ktstr-actors run`: logs its start and end, then by its VM's name:
/// crash* dies of SIGSEGV, fail* writes a failing result (exit 1), others pass.
fs::path write_fake_run(const fs::path& dir, const fs::path& log) {
  const fs::path script = dir / "fake-run.sh";
  std::ofstream(script) << "#!/bin/sh\n"
                           "json=''; out=''\n"
                           "while [ $# -gt 0 ]; do case \"$1\" in --json) json=\"$2\"; shift;; --out) out=\"$2\"; shift;; "
                           "esac; shift; done\n"
                           "name=$(basename \"$out\")\n"
                           "echo \"start $name $(date +%s.%N)\" >> '" << log.string() << "'\n"
                           "sleep 0.4\n"
                           "case \"$name\" in\n"
                           "  crash*) echo \"end $name $(date +%s.%N)\" >> '" << log.string() << "'; kill -SEGV $$ ;;\n"
                           "  fail*) echo '{\"verdict\":\"fail\",\"reasons\":[\"predicted stall: pid 5 on CPU 1\"],"
                           "\"scenario\":{\"workers\":[{\"work_units\":50,\"max_gap_ms\":900}]}}' > \"$json\"; "
                           "echo \"end $name $(date +%s.%N)\" >> '" << log.string() << "'; exit 1 ;;\n"
                           "  *) echo '{\"verdict\":\"pass\",\"scenario\":{\"workers\":[{\"work_units\":100,\"max_gap_ms\":10}]}}'"
                           " > \"$json\" ;;\n"
                           "esac\n"
                           "echo \"end $name $(date +%s.%N)\" >> '" << log.string() << "'\n";
  ::chmod(script.c_str(), 0755);
  return script;
}

/// The most runs that were running at once, from the stand-ins' start/end lines.
int most_at_once(const fs::path& log) {
  std::ifstream in(log);
  std::vector<std::pair<double, int>> edges;
  std::string what, name;
  double at = 0;
  while (in >> what >> name >> at) edges.push_back({at, what == "start" ? 1 : -1});
  std::sort(edges.begin(), edges.end(), [](auto& a, auto& b) { return a.first < b.first || (a.first == b.first && a.second < b.second); });
  int now = 0, most = 0;
  for (const auto& [t, d] : edges) most = std::max(most, now += d);
  return most;
}

}  // namespace

TEST_CASE("experiment: runs at most --jobs at once - a crashing run is lost alone - expectations and the comparison "
          "are judged - results are on disk") {
  const auto dir = test::scratch_dir("experiment-fake");
  const auto log = dir / "runs.log";
  const auto fake = write_fake_run(dir, log);
  const auto file = dir / "x.toml";
  std::ofstream(file) << "name = \"fake\"\n"
                         "[[vm]]\nname = \"base\"\n"
                         "[[vm]]\nname = \"same\"\n"
                         "[[vm]]\nname = \"fail-stall\"\nexpect = \"fail\"\nexpect_finding = \"predicted stall\"\n"
                         "[[vm]]\nname = \"crash\"\n"
                         "[[vm]]\nname = \"rep\"\nrepeat = 2\n"
                         "[compare]\nbaseline = \"base\"\nmetrics = [\"work_units\", \"max_gap_ms\"]\n";
  auto r = test::run_cli({"experiment", file.string(), "--host", "kvm", "--jobs", "2", "--runner", fake.string(), "--out",
                          (dir / "out").string(), "--junit", (dir / "j.xml").string(), "--html",
                          (dir / "x.html").string()});
  INFO(r.output);
  CHECK(r.exit_code == exit_inconclusive);  // every result met its expectation; the crash left none
  CHECK(most_at_once(log) == 2);
  const auto j = test::read_json(dir / "out" / "experiment.json");
  REQUIRE(j.is_object());
  CHECK(j["finished"] == true);
  REQUIRE(j["vms"].size() == 6);
  std::map<std::string, nlohmann::json> by;
  for (const auto& v : j["vms"]) by[v["name"].get<std::string>()] = v;
  CHECK(by["base"]["met"] == true);
  CHECK(by["base"]["result"]["verdict"] == "pass");
  CHECK(by["fail-stall"]["met"] == true);
  CHECK(by["fail-stall"]["exit_code"] == 1);
  CHECK(by["crash"]["met"] == false);
  CHECK(by["crash"]["signal"] == 11);
  CHECK(by["crash"]["why"] == "no result: the run was ended by signal 11");
  CHECK(by["rep.1"]["met"] == true);
  CHECK(by["rep.2"]["met"] == true);
  CHECK(by["same"]["where"]["out"].get<std::string>().ends_with("/out/same"));
  // fail-stall does less work with longer gaps than base; rep's two runs are compared as one VM.
  bool worse_gap = false, rep_compared = false;
  for (const auto& c : j["comparisons"]) {
    if (c["vm"] == "fail-stall" && c["metric"] == "max_gap_ms") worse_gap = c["verdict"] == "worse" && c["ratio"] == 90.0;
    if (c["vm"] == "rep" && c["metric"] == "work_units") rep_compared = c["values"].size() == 2 && c["ratio"] == 1.0;
  }
  CHECK(worse_gap);
  CHECK(rep_compared);
  CHECK_THAT(r.output, Catch::Contains("experiment fake: 5 of 6 run(s) met their expectation"));
  std::ifstream junit(dir / "j.xml");
  std::string xml((std::istreambuf_iterator<char>(junit)), std::istreambuf_iterator<char>());
  CHECK_THAT(xml, Catch::Contains("tests=\"6\" failures=\"0\" errors=\"1\""));
  CHECK_THAT(xml, Catch::Contains("name=\"crash\""));
  // The page: one timeline per run, the crashed one's too; the comparison's worse metric.
  const std::string html = test::slurp(dir / "x.html");
  size_t timelines = 0;
  for (size_t at = html.find("<svg class=\"timeline\""); at != std::string::npos; at = html.find("<svg class=\"timeline\"", at + 1))
    ++timelines;
  CHECK(timelines == 6);
  CHECK_THAT(html, Catch::Contains("<td>fail-stall</td><td>max_gap_ms</td>"));
  CHECK_THAT(html, Catch::Contains("no result: the run was ended by signal 11"));
  fs::remove_all(dir);
}

TEST_CASE("orchestrator: a stop request ends running runs by SIGTERM and reports the ones not started as "
          "interrupted, every run reported") {
  caf::actor_system_config cfg;
  actors::configure_runtime(cfg);
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  std::atomic<bool> stop{false};
  std::vector<VmRun> runs(3);
  for (size_t i = 0; i < runs.size(); ++i) {
    runs[i].index = i;
    runs[i].name = "sleeper" + std::to_string(i);
  }
  std::vector<msg::vm_run_ended> ended;
  std::vector<bool> interrupted;
  OrchestratorConfig oc;
  oc.runs = runs;
  oc.jobs = 2;
  oc.stop = &stop;
  oc.tick = std::chrono::milliseconds(50);
  oc.listener = caf::actor_cast<caf::actor>(self);
  oc.launch = [](const VmRun&) { return spawn_process("/bin/sh", {"sh", "-c", "sleep 30"}, {}); };
  oc.on_end = [&](const VmRun&, const msg::vm_run_ended& e, bool i, uint32_t) {
    ended.push_back(e);
    interrupted.push_back(i);
  };
  sys.spawn(orchestrator, oc);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const auto asked = std::chrono::steady_clock::now();
  stop = true;
  bool finished_interrupted = false;
  self->receive([&](const msg::experiment_finished& f) { finished_interrupted = f.interrupted; },
                caf::after(std::chrono::seconds(10)) >> [] { FAIL("the orchestrator did not finish"); });
  CHECK(std::chrono::steady_clock::now() - asked < std::chrono::seconds(5));
  CHECK(finished_interrupted);
  REQUIRE(ended.size() == 3);
  int terminated = 0, not_started = 0;
  for (size_t i = 0; i < ended.size(); ++i) {
    CHECK(interrupted[i]);
    if (ended[i].signal == SIGTERM) ++terminated;
    if (ended[i].index == 2) not_started += ended[i].elapsed_s == 0 && ended[i].signal == 0;
  }
  CHECK(terminated == 2);
  CHECK(not_started == 1);
}
