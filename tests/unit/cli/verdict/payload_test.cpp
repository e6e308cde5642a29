// Payloads on the host: the scenario file's [[payload]], the plan it becomes, the program
// found and checked before anything boots, the metrics of known tools from (hostile)
// output, the payload check and the comparison's payload metrics.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "apps/cli/experiment/comparison.hpp"
#include "apps/cli/guest/payload_program.hpp"
#include "apps/cli/report/scenario_report.hpp"
#include "apps/cli/scenario/scenario_parser.hpp"
#include "apps/cli/scenario/scenario_plan.hpp"
#include "apps/cli/verdict/assertions.hpp"
#include "apps/cli/verdict/payload_metrics.hpp"
#include "apps/cli/verdict/scenario_results.hpp"
#include "tests/support/scenario_text.hpp"

using namespace ktstr::cli;
namespace protocol = ktstr::protocol;
using Catch::Contains;
using nlohmann::json;

namespace {

const std::string kWithCgroup =
    "name = \"t\"\nduration = \"10s\"\n[[cgroup]]\nname = \"a\"\ncpuset = { cpus = \"1\" }\n";  // lines 1-5

protocol::Plan plan_of(const std::string& text) {
  return build_plan(parse_scenario(text, "/some/dir/t.toml"), ktstr::kvm::Topology({1, 1, 2, 1}), std::nullopt);
}

}  // namespace

TEST_CASE("payload: [[payload]] in a scenario file becomes plan payloads, named and placed") {
  auto plan = plan_of(kWithCgroup +
                      "[[payload]]\ncmd = [\"hackbench\", \"-g\", \"2\"]\ncgroup = \"a\"\nstart_s = 1.5\n"
                      "[[payload]]\ncmd = [\"bin/hackbench\"]\n"
                      "[[payload]]\nname = \"hog\"\ncmd = [\"stress-ng\", \"--cpu\", \"1\"]\n");
  REQUIRE(plan.payloads.size() == 3);
  CHECK(plan.payloads[0].name == "hackbench");
  CHECK(plan.payloads[0].path == "/ktstr/payload/0/hackbench");
  CHECK(plan.payloads[0].args == std::vector<std::string>{"-g", "2"});
  CHECK(plan.payloads[0].cgroup == "workload/a");
  CHECK(plan.payloads[0].start_ms == 1500);
  CHECK(plan.payloads[1].name == "hackbench-2");  // the same program twice: named apart
  CHECK(plan.payloads[1].path == "/ktstr/payload/1/hackbench");
  CHECK(plan.payloads[1].cgroup.empty());
  CHECK(plan.payloads[2].name == "hog");
  CHECK(plan.end_with_payloads);  // no workers: the scenario ends with its payloads
  CHECK(parse_scenario(kWithCgroup + "[[payload]]\ncmd = [\"bin/x\"]\n", "/some/dir/t.toml").payloads[0].base_dir == "/some/dir");

  auto beside = plan_of(kWithCgroup.substr(0, kWithCgroup.size()) + "workers = [ { type = \"spin\" } ]\n"
                        "[[payload]]\ncmd = [\"hackbench\"]\n");
  CHECK_FALSE(beside.end_with_payloads);  // beside workers: the scenario's duration
}

TEST_CASE("payload: bad [[payload]] tables name file, line and field") {
  using ktstr::test::parse_error;
  CHECK(parse_error(kWithCgroup + "[[payload]]\ncmd = []\n") ==
        "t.toml:7: payload[0].cmd: a payload needs a program: cmd = [\"hackbench\", ...]");
  CHECK(parse_error(kWithCgroup + "[[payload]]\ncmd = [\"x\"]\ncgroup = \"b\"\n") ==
        "t.toml:8: payload[0].cgroup: unknown cgroup \"b\" (not declared, or removed before this step)");
  CHECK(parse_error(kWithCgroup + "[[payload]]\ncmd = [\"x\"]\nstart_s = 10\n") ==
        "t.toml:8: payload[0].start_s: not before the end of the scenario");
  CHECK_THAT(parse_error(kWithCgroup + "[[payload]]\ncmd = [\"x\"]\nname = \"a b\"\n"), Contains("payload[0].name"));
  CHECK_THAT(parse_error(kWithCgroup + "[[payload]]\ncmd = [\"x\"]\nargs = []\n"), Contains("payload[0].args: unknown key"));
  CHECK_THAT(parse_error(kWithCgroup), Contains("no workers"));  // neither workers nor payloads
}

TEST_CASE("payload: the program is found in PATH or by path, and must be an x86-64 ELF executable") {
  const auto found = resolve_payload_program("sh", "", "/nonexistent:/bin:/usr/bin");
  CHECK(found.host.is_absolute());
  CHECK(found.host.filename() == "sh");
  CHECK_FALSE(found.libraries.empty());  // dynamically linked: its loader and libc travel with it

  auto refused = [](const std::string& program, const std::filesystem::path& base = "") {
    try {
      resolve_payload_program(program, base, "/nonexistent");
    } catch (const PayloadProgramError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK_THAT(refused("no-such-tool-here"), Contains("not found in PATH (/nonexistent)"));
  CHECK_THAT(refused("/nonexistent/tool"), Contains("does not exist"));
  const auto dir = std::filesystem::temp_directory_path() / ("payload_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "script.sh") << "#!/bin/sh\necho hi\n";
  ::chmod((dir / "script.sh").c_str(), 0755);
  std::ofstream(dir / "plain") << "data";
  CHECK_THAT(refused("./script.sh", dir), Contains("cannot run in the guest"));  // not ELF
  CHECK_THAT(refused("./plain", dir), Contains("is not executable"));
  CHECK_THAT(refused("./", dir), Contains("is not a regular file"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("payload metrics: hackbench, stress-ng and cyclictest output - garbage gives nothing") {
  auto hb = payload_metrics("/ktstr/payload/0/hackbench",
                            {"Running in process mode with 1 groups using 40 file descriptors each (== 40 tasks)",
                             "Each sender will pass 50 messages of 100 bytes", "Time: 0.161"});
  CHECK(hb == PayloadMetrics{{"time_s", 0.161}});
  auto sn = payload_metrics("stress-ng",
                            {"stress-ng: info:  [5710] dispatching hogs: 1 cpu",
                             "stress-ng: metrc: [5710] stressor       bogo ops real time  usr time  sys time   bogo ops/s     bogo ops/s",
                             "stress-ng: metrc: [5710]                           (secs)    (secs)    (secs)   (real time) (usr+sys time)",
                             "stress-ng: metrc: [5710] cpu                1098      2.01      0.64      0.01       546.86        1678.90",
                             "stress-ng: metrc: [5710] vm                  100      2.00      0.10      0.50        50.00         166.67",
                             "stress-ng: info:  [5710] successful run completed in 2.02s"});
  CHECK(sn == PayloadMetrics{{"cpu.bogo_ops_s", 546.86}, {"vm.bogo_ops_s", 50.0}, {"bogo_ops_s", 596.86}});
  auto ct = payload_metrics("cyclictest", {"# /dev/cpu_dma_latency set to 0us",
                                           "T: 0 ( 5796) P: 0 I:1000 C:    978 Min:     74 Act:   93 Avg:  122 Max:    4917",
                                           "T: 1 ( 5797) P: 0 I:1500 C:    639 Min:     48 Act:  174 Avg:  182 Max:   11239"});
  CHECK(ct == PayloadMetrics{{"max_us", 11239}, {"min_us", 48}, {"avg_us", 152}});
  // Hostile or unknown: nothing, never a throw.
  CHECK(payload_metrics("hackbench", {"Time: nan", "Time: -3", "Time: 1e400", "Time:", std::string(5000, 'x')}).empty());
  CHECK(payload_metrics("stress-ng", {"stress-ng: metrc: [1] cpu 1 2 3 4 inf 6", "stress-ng: metrc: [1] c$u 1 2 3 4 5 6"}).empty());
  CHECK(payload_metrics("cyclictest", {"T: 0 Min: 1 Avg: x Max: 3", "T:"}).empty());
  CHECK(payload_metrics("/usr/bin/my-tool", {"Time: 1.0"}).empty());
  CHECK(payload_metric_higher_is_better("payload.hog.bogo_ops_s"));
  CHECK_FALSE(payload_metric_higher_is_better("payload.hackbench.time_s"));
}

namespace {

ScenarioResults payload_results(const std::vector<protocol::PayloadReport>& reports, bool done = true) {
  protocol::Plan plan;
  plan.name = "payload";
  plan.duration_ms = 60000;
  plan.usable_cpus = {0, 1};
  for (uint32_t i = 0; i < 3; ++i)
    plan.payloads.push_back({i, "p" + std::to_string(i), "/ktstr/payload/" + std::to_string(i) + "/hackbench", {}, "", 0});
  ScenarioCollector c(scenario_plan(plan));
  c.feed(protocol::AgentEvent{protocol::ScenarioStarted{1, "payload", 0, {0, 1}, 2.0}});
  for (const auto& r : reports) c.feed(protocol::AgentEvent{r});
  if (done) c.feed(protocol::AgentEvent{protocol::ScenarioDone{9, 3000, {}}});
  return c.take();
}

protocol::PayloadReport ended(uint32_t id, std::optional<uint32_t> exit_code, std::optional<uint32_t> signal, bool stopped) {
  protocol::PayloadReport r;
  r.id = id;
  r.name = "p" + std::to_string(id);
  r.pid = 100 + id;
  r.started_ms = 1;
  r.ended_ms = 1801;
  r.exit_code = exit_code;
  r.signal = signal;
  r.stopped = stopped;
  r.output = {"Time: 1.8"};
  return r;
}

}  // namespace

TEST_CASE("payload check: exit 0 and stopped at the end pass - non-zero, a signal or a missing report fail") {
  auto verdicts = [](const ScenarioResults& results) {
    std::vector<std::pair<Verdict, std::string>> out;
    for (const auto& f : check_payloads(results)) out.emplace_back(f.verdict, f.message);
    return out;
  };
  auto all_fine = verdicts(payload_results({ended(0, 0, std::nullopt, false), ended(1, std::nullopt, 15, true),
                                            ended(2, 0, std::nullopt, false)}));
  REQUIRE(all_fine.size() == 3);
  for (const auto& [v, m] : all_fine) CHECK(v == Verdict::pass);
  CHECK(all_fine[0].second == "payload p0 exited 0 after 1.8 s");
  CHECK_THAT(all_fine[1].second, Contains("stopped after 1.8 s"));

  auto bad = verdicts(payload_results({ended(0, 3, std::nullopt, false), ended(1, std::nullopt, 11, false)}));
  REQUIRE(bad.size() == 3);
  CHECK(bad[0] == std::pair{Verdict::fail, std::string("payload p0 exited 3 after 1.8 s; last output: Time: 1.8")});
  CHECK(bad[1].first == Verdict::fail);
  CHECK_THAT(bad[1].second, Contains("killed by signal 11"));
  CHECK(bad[2] == std::pair{Verdict::fail, std::string("payload p2 never reported")});

  protocol::PayloadReport no_start = ended(0, std::nullopt, std::nullopt, false);
  no_start.pid.reset();
  no_start.error = "cgroup workload/a: Device or resource busy";
  auto r = payload_results({no_start}, /*done=*/false);
  auto cannot = verdicts(r);
  REQUIRE(cannot.size() == 1);  // without scenario_done the run check speaks for the others
  CHECK(cannot[0].first == Verdict::fail);
  CHECK_THAT(cannot[0].second, Contains("did not run: cgroup workload/a"));

  // A report for a payload the plan does not have, or twice, is a protocol problem.
  ScenarioCollector c(r.plan);
  c.feed(protocol::AgentEvent{ended(7, 0, std::nullopt, false)});
  c.feed(protocol::AgentEvent{ended(0, 0, std::nullopt, false)});
  c.feed(protocol::AgentEvent{ended(0, 1, std::nullopt, false)});
  REQUIRE(c.results().protocol_problems.size() == 2);
  CHECK_THAT(c.results().protocol_problems[0], Contains("no such payload"));
  CHECK_THAT(c.results().protocol_problems[1], Contains("came twice"));
  CHECK(c.results().payloads.at(0).exit_code == 0u);
}

TEST_CASE("payload report: result.json has each payload with its metrics, the summary a line each") {
  auto results = payload_results({ended(0, 0, std::nullopt, false), ended(1, 2, std::nullopt, false)});
  AssertionThresholds thresholds;
  ScenarioReport report = make_scenario_report(results, thresholds);
  CHECK(report.verdict == Verdict::fail);
  REQUIRE(report.payloads.size() == 3);
  CHECK(report.payloads[0] == "payload p0: exit 0 after 1.8 s; time_s 1.8");
  CHECK(report.payloads[2] == "payload p2: no report");
  json j = scenario_report_json(report, results, thresholds);
  REQUIRE(j["payloads"].size() == 3);
  CHECK(j["payloads"][0]["metrics"] == json{{"time_s", 1.8}});
  CHECK(j["payloads"][0]["argv"] == json::array({"/ktstr/payload/0/hackbench"}));
  CHECK(j["payloads"][1]["exit_code"] == 2);
  CHECK(j["payloads"][2]["reported"] == false);

  // The comparison reads them as payload.<name>.<metric>, lower time is better.
  json base = {{"scenario", {{"payloads", j["payloads"]}}}};
  json slower = base;
  slower["scenario"]["payloads"][0]["metrics"]["time_s"] = 3.6;
  CHECK(metric_of(base, "payload.p0.time_s") == 1.8);
  CHECK_FALSE(metric_of(base, "payload.p2.time_s"));
  CHECK(payload_metric_names({&base}) == std::vector<std::string>{"payload.p0.time_s", "payload.p1.time_s"});
  auto cmp = compare_vms({{"eevdf", {&base}}, {"simple", {&slower}}}, "eevdf", {}, 10);
  auto it = std::find_if(cmp.begin(), cmp.end(), [](auto& c) { return c.metric == "payload.p0.time_s"; });
  REQUIRE(it != cmp.end());
  CHECK(it->ratio == 2.0);
  CHECK(it->verdict == "worse");
}
