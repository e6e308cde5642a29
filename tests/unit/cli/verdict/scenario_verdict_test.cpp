// Collector, assertions, verdict ordering and the three report formats.
#include <catch2/catch.hpp>

#include <map>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "apps/protocol/agent_events.hpp"
#include "apps/cli/verdict/assertions.hpp"
#include "apps/cli/base/exit_codes.hpp"
#include "apps/cli/report/junit_report.hpp"
#include "apps/cli/report/scenario_report.hpp"
#include "apps/cli/verdict/scenario_results.hpp"

using namespace ktstr::cli;
namespace protocol = ktstr::protocol;
using nlohmann::json;

namespace {

json plan_json() {
  return json::parse(R"({
  "version": 1, "name": "steady", "duration_ms": 10000, "usable_cpus": [0, 1, 2, 3], "checkpoint_us": 1000,
  "cgroups": [{"path": "workload/a", "cpus": [0, 1]}, {"path": "workload/b", "cpus": null}],
  "workers": [
    {"id": 0, "name": "a.spin.0", "cgroup": "workload/a", "type": "spin", "policy": "normal", "priority": 0,
     "nice": 0, "affinity": null, "start_ms": 0, "params": {}},
    {"id": 1, "name": "a.spin.1", "cgroup": "workload/a", "type": "spin", "policy": "normal", "priority": 0,
     "nice": 0, "affinity": null, "start_ms": 0, "params": {}},
    {"id": 2, "name": "b.spin.0", "cgroup": "workload/b", "type": "spin", "policy": "normal", "priority": 0,
     "nice": 0, "affinity": [3], "start_ms": 0, "params": {}}
  ],
  "steps": [{"at_ms": 5000, "ops": [{"op": "spawn", "workers": [
    {"id": 7, "name": "b.sleep.7", "cgroup": "workload/b", "type": "sleep", "policy": "batch", "priority": 0,
     "nice": 0, "affinity": null, "start_ms": 5000, "params": {}}]}]}],
  "scheduler": {"path": "/ktstr/sched/scx_simple", "args": ["-v"], "enable_timeout_ms": 10000}
})");
}

protocol::WorkerReport report(uint32_t id, const std::string& name, const std::string& cgroup, const std::string& type = "spin") {
  protocol::WorkerReport r;
  r.id = id;
  r.name = name;
  r.cgroup = cgroup;
  r.type = type;
  r.pid = 60 + id;
  r.stopped_ms = 10000;
  r.work_units = 100000;
  r.cpu_ms = 5000;
  r.wall_ms = 10000;
  r.off_cpu_ms = 5000;
  r.migrations = 3;
  r.cpus_used = {0, 1};
  r.max_gap_ms = 4;
  r.max_gap_at_ms = 100;
  r.max_gap_cpu = 1;
  r.exit_text = "ok";
  return r;
}

protocol::SchedulerEvent sched(protocol::SchedulerState state) {
  protocol::SchedulerEvent e;
  e.state = state;
  return e;
}

/// A clean, passing run of the plan above.
ScenarioCollector good_run() {
  ScenarioCollector c(parse_plan(plan_json()));
  auto started = sched(protocol::SchedulerState::started);
  started.pid = 57;
  c.feed(protocol::AgentEvent{started});
  auto enabled = sched(protocol::SchedulerState::enabled);
  enabled.after_ms = 812;
  enabled.ops = "simple";
  c.feed(protocol::AgentEvent{enabled});
  c.feed(protocol::AgentEvent{protocol::ScenarioStarted{0, "steady", 3, {0, 1, 2, 3}, 3.2}});
  c.feed(protocol::AgentEvent{protocol::StepEvent{0, 0, 5001, 5000, {}}});
  c.feed(protocol::AgentEvent{report(0, "a.spin.0", "workload/a")});
  c.feed(protocol::AgentEvent{report(1, "a.spin.1", "workload/a")});
  auto b = report(2, "b.spin.0", "workload/b");
  b.cpus_used = {3};
  c.feed(protocol::AgentEvent{b});
  auto s = report(7, "b.sleep.7", "workload/b", "sleep");
  s.started_ms = 5000;
  s.wall_ms = 5000;
  s.off_cpu_ms = 4900;
  c.feed(protocol::AgentEvent{s});
  c.feed(protocol::AgentEvent{protocol::ScenarioDone{0, 10012, {}}});
  return c;
}

/// The good run with one report replaced.
ScenarioResults with_report(protocol::WorkerReport r) {
  ScenarioResults results = good_run().take();
  results.reports[r.id] = std::move(r);
  return results;
}

std::vector<Finding> only(const std::vector<Finding>& findings, Verdict verdict) {
  std::vector<Finding> out;
  for (const auto& f : findings)
    if (f.verdict == verdict) out.push_back(f);
  return out;
}

const AssertionThresholds kDefaults{};

}  // namespace

TEST_CASE("plan: expected workers include spawned ones, allowed CPUs follow affinity, cgroup, usable") {
  auto plan = parse_plan(plan_json());
  CHECK(plan.name == "steady");
  REQUIRE(plan.workers.size() == 4);
  CHECK(plan.workers[3].id == 7);
  CHECK(plan.workers[3].start_ms == 5000);
  CHECK(plan.workers[3].policy == "batch");
  CHECK(plan.scheduler_path == "/ktstr/sched/scx_simple");
  CHECK(plan.allowed_cpus(plan.workers[0]) == std::vector<uint32_t>{0, 1});
  CHECK(plan.allowed_cpus(plan.workers[2]) == std::vector<uint32_t>{3});
  CHECK(plan.allowed_cpus(plan.workers[3]) == std::vector<uint32_t>{0, 1, 2, 3});
  CHECK(format_cpu_list({3, 0, 1, 2, 6}) == "0-3,6");

  auto bad = plan_json();
  bad["workers"][1]["id"] = 0;
  // The host reads its plan with the agent's parser (apps/protocol): the same errors.
  CHECK_THROWS_WITH(parse_plan(bad), "plan .workers[1].id: duplicate worker id 0");
  bad = plan_json();
  bad["workers"][0].erase("name");
  CHECK_THROWS_WITH(parse_plan(bad), "plan .workers[0].name: missing");
  bad = plan_json();
  bad["workers"][0]["id"] = -1;
  CHECK_THROWS_WITH(parse_plan(bad), "plan .workers[0].id: -1 outside 0..1000000");
  CHECK_THROWS_AS(parse_plan(json::array()), PlanError);
}

TEST_CASE("collector lists duplicate, unknown and protocol-error lines instead of throwing") {
  auto c = good_run();
  c.feed(protocol::AgentEvent{report(0, "a.spin.0", "workload/a")});
  c.feed(protocol::AgentEvent{report(99, "ghost", "workload/a")});
  c.feed(protocol::ParsedLine{protocol::ProtocolError{"worker_report: cpu_ms must be finite"}});
  c.feed(protocol::AgentEvent{protocol::ScenarioDone{0, 1, {}}});
  const auto& r = c.results();
  CHECK(r.reports.size() == 4);
  REQUIRE(r.protocol_problems.size() == 4);
  CHECK(r.protocol_problems[0] == "worker_report for worker 0 (\"a.spin.0\") came twice; the first is kept");
  CHECK(r.protocol_problems[1] == "worker_report for worker 99 (\"ghost\"): no such worker in the plan");
  CHECK(r.protocol_problems[2] == "worker_report: cpu_ms must be finite");
  CHECK_THAT(r.protocol_problems[3], Catch::StartsWith("scenario_done came twice"));
  CHECK(r.done->wall_ms == 10012);  // the first is kept
  // Each problem makes the run inconclusive.
  auto run = check_run(r);
  CHECK(only(run, Verdict::inconclusive).size() == 4);
  CHECK_THAT(run[0].message, Catch::StartsWith("protocol problem: worker_report for worker 0"));
}

TEST_CASE("collector caps the number of worker reports") {
  ScenarioCollector c(parse_plan(plan_json()));
  for (int i = 0; i < 5000; ++i) c.feed(protocol::AgentEvent{report(99, "x", "y")});
  const auto& problems = c.results().protocol_problems;
  CHECK(problems.size() == ScenarioCollector::kMaxListed + 1);
  CHECK(problems.back() == "further messages dropped");
}

TEST_CASE("a clean run passes every check - skips only for unset thresholds") {
  auto results = good_run().take();
  auto findings = evaluate(results, kDefaults);
  CHECK(only(findings, Verdict::fail).empty());
  CHECK(only(findings, Verdict::inconclusive).empty());
  // Each skip is a check this run did not configure or could not apply, and says so.
  std::map<CheckKind, std::string> skips;
  for (const auto& f : only(findings, Verdict::skip)) skips[f.check] = f.message;
  CHECK(skips == std::map<CheckKind, std::string>{{CheckKind::throughput, "throughput spread not configured"},
                                                  {CheckKind::predicted_stall, "monitor off (--monitor-period 0)"},
                                                  {CheckKind::rq_clock, "monitor off (--monitor-period 0)"},
                                                  {CheckKind::imbalance, "not checked (no imbalance_ms in [assert])"},
                                                  {CheckKind::payload, "no payloads in this scenario"}});
  CHECK(overall_verdict(findings) == Verdict::pass);
  CHECK(exit_code_for(Verdict::pass) == exit_pass);
}

TEST_CASE("starvation: a worker with zero work units fails, naming worker, cgroup, CPUs and time") {
  CHECK(check_starvation(good_run().results(), kDefaults).at(0).verdict == Verdict::pass);
  auto r = report(1, "a.spin.1", "workload/a");
  r.work_units = 0;
  r.started_ms = 0;
  r.stopped_ms = 10003;
  r.max_gap_cpu = 1;
  auto findings = check_starvation(with_report(r), kDefaults);
  REQUIRE(findings.size() == 1);
  const auto& f = findings[0];
  CHECK(f.verdict == Verdict::fail);
  CHECK(f.check == CheckKind::starvation);
  CHECK(f.worker == "a.spin.1");
  CHECK(f.cgroup == "workload/a");
  CHECK(f.cpu == 1u);
  CHECK(f.at_ms == 0.0);
  CHECK(f.message ==
        "worker a.spin.1 in cgroup workload/a starved: 0 work units from 0.0 to 10003.0 ms (10000.0 ms wall); "
        "allowed CPUs 0-1, last on CPU 1");
  AssertionThresholds off;
  off.starvation = false;
  CHECK(check_starvation(with_report(r), off).at(0).verdict == Verdict::skip);
}

TEST_CASE("fairness: off-CPU spread within a cgroup's same-type workers") {
  auto pass = check_fairness(good_run().results(), kDefaults);
  REQUIRE(pass.size() == 1);
  CHECK(pass[0].verdict == Verdict::pass);

  auto r = report(1, "a.spin.1", "workload/a");
  r.off_cpu_ms = 8000;  // 80% against a.spin.0's 50%
  auto findings = check_fairness(with_report(r), kDefaults);
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].verdict == Verdict::fail);
  CHECK(findings[0].cgroup == "workload/a");
  CHECK(findings[0].worker == "a.spin.1");
  CHECK(findings[0].message ==
        "cgroup workload/a: off-CPU spread 30.0 points among 2 spin/normal workers exceeds 15: a.spin.1 off-CPU "
        "80.0%, a.spin.0 off-CPU 50.0%");

  // At the threshold is still a pass; different types are not compared.
  r.off_cpu_ms = 6500;
  CHECK(check_fairness(with_report(r), kDefaults).at(0).verdict == Verdict::pass);
  auto other_type = report(1, "a.spin.1", "workload/a", "yield");
  other_type.off_cpu_ms = 9900;
  CHECK(check_fairness(with_report(other_type), kDefaults).at(0).verdict == Verdict::skip);
}

TEST_CASE("longest gap above the limit fails, naming worker, cgroup, CPU and when") {
  CHECK(check_gap(good_run().results(), kDefaults).at(0).verdict == Verdict::pass);
  auto r = report(2, "b.spin.0", "workload/b");
  r.max_gap_ms = 2500;
  r.max_gap_at_ms = 4410;
  r.max_gap_cpu = 3;
  auto findings = check_gap(with_report(r), kDefaults);
  REQUIRE(findings.size() == 1);
  const auto& f = findings[0];
  CHECK(f.verdict == Verdict::fail);
  CHECK(f.worker == "b.spin.0");
  CHECK(f.cgroup == "workload/b");
  CHECK(f.cpu == 3u);
  CHECK(f.at_ms == 4410.0);
  CHECK(f.message ==
        "worker b.spin.0 in cgroup workload/b made no progress for 2500.0 ms from 4410.0 ms on, then ran on CPU 3 "
        "(limit 2000 ms)");
}

TEST_CASE("isolation: a violation fails naming worker, cgroup, CPU, time and allowed set") {
  CHECK(check_isolation(good_run().results(), kDefaults).at(0).verdict == Verdict::pass);
  auto r = report(0, "a.spin.0", "workload/a");
  r.isolation = {5, 3u, 1234.0, std::vector<uint32_t>{0, 1}};
  auto findings = check_isolation(with_report(r), kDefaults);
  REQUIRE(findings.size() == 1);
  const auto& f = findings[0];
  CHECK(f.verdict == Verdict::fail);
  CHECK(f.worker == "a.spin.0");
  CHECK(f.cgroup == "workload/a");
  CHECK(f.cpu == 3u);
  CHECK(f.at_ms == 1234.0);
  CHECK(f.message ==
        "worker a.spin.0 in cgroup workload/a ran on CPU 3 outside its allowed CPUs 0-1 at 1234.0 ms (5 violations)");
  r.isolation.first_allowed.reset();
  CHECK_THAT(check_isolation(with_report(r), kDefaults).at(0).message,
             Catch::Contains("allowed CPUs 0-1 (as planned)"));
}

TEST_CASE("throughput spread: only when configured - per cgroup and type") {
  AssertionThresholds t;
  t.throughput_spread_pct = 20;
  CHECK(check_throughput(good_run().results(), kDefaults).at(0).verdict == Verdict::skip);
  CHECK(check_throughput(good_run().results(), t).at(0).verdict == Verdict::pass);
  auto r = report(1, "a.spin.1", "workload/a");
  r.work_units = 50000;
  auto findings = check_throughput(with_report(r), t);
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].verdict == Verdict::fail);
  CHECK(findings[0].cgroup == "workload/a");
  CHECK(findings[0].worker == "a.spin.1");
  CHECK(findings[0].message ==
        "cgroup workload/a: throughput spread 50.0% among 2 spin workers exceeds 20%: a.spin.0 did 10000 work "
        "units/s (100000 in total), a.spin.1 5000/s (50000 in total)");
}

TEST_CASE("scheduler: died, ejected and enable_timeout fail with the last output - unsupported skips") {
  CHECK(check_scheduler(good_run().results()).at(0).verdict == Verdict::pass);

  auto results = good_run().take();
  auto died = sched(protocol::SchedulerState::died);
  died.at_ms = 2004;
  died.status = "exit 1";
  died.output = {"scx_simple: error", "bye"};
  results.scheduler_events.push_back(died);
  auto f = check_scheduler(results);
  REQUIRE(f.size() == 1);
  CHECK(f[0].verdict == Verdict::fail);
  CHECK(f[0].at_ms == 2004.0);
  CHECK(f[0].message == "scheduler died at 2.004 s (exit 1); last output:\n  scx_simple: error\n  bye");

  results = good_run().take();
  auto ejected = sched(protocol::SchedulerState::ejected);
  ejected.at_ms = 3000;
  ejected.sched_ext_state = "disabled";
  results.scheduler_events.push_back(ejected);
  CHECK(check_scheduler(results).at(0).message ==
        "scheduler was ejected at 3.000 s (sched_ext state: disabled); no output");

  ScenarioCollector timeout(parse_plan(plan_json()));
  auto to = sched(protocol::SchedulerState::enable_timeout);
  to.after_ms = 10000;
  to.output = {"waiting"};
  timeout.feed(protocol::AgentEvent{to});
  timeout.feed(protocol::AgentEvent{protocol::ScenarioDone{0, 0, {"scheduler did not enable"}}});
  auto tf = evaluate(timeout.results(), kDefaults);
  CHECK(only(tf, Verdict::fail).at(0).message == "scheduler did not enable within 10.0 s; last output:\n  waiting");
  CHECK(overall_verdict(tf) == Verdict::fail);

  ScenarioCollector unsupported(parse_plan(plan_json()));
  auto u = sched(protocol::SchedulerState::unsupported);
  u.reason = "no /sys/kernel/sched_ext";
  unsupported.feed(protocol::AgentEvent{u});
  unsupported.feed(protocol::AgentEvent{protocol::ScenarioDone{0, 0, {"sched_ext unsupported"}}});
  auto uf = evaluate(unsupported.results(), kDefaults);
  CHECK(only(uf, Verdict::skip).size() == uf.size());
  CHECK_THAT(check_scheduler(unsupported.results()).at(0).message, Catch::Contains("CONFIG_SCHED_CLASS_EXT"));
  CHECK(overall_verdict(uf) == Verdict::skip);
  CHECK(exit_code_for(overall_verdict(uf)) == exit_pass);

  ScenarioCollector builtin(parse_plan([] {
    auto j = plan_json();
    j["scheduler"] = nullptr;
    return j;
  }()));
  CHECK(check_scheduler(builtin.results()).at(0).verdict == Verdict::skip);
}

TEST_CASE("run: never started, never finished, step errors, missing reports") {
  ScenarioCollector none(parse_plan(plan_json()));
  auto f = check_run(none.results());
  CHECK(f.at(0).verdict == Verdict::inconclusive);
  CHECK(f.at(0).message == "scenario never started (no scenario_started)");

  ScenarioCollector unfinished(parse_plan(plan_json()));
  unfinished.feed(protocol::AgentEvent{protocol::ScenarioStarted{0, "steady", 3, {0, 1, 2, 3}, 3.2}});
  unfinished.feed(protocol::AgentEvent{report(0, "a.spin.0", "workload/a")});
  f = check_run(unfinished.results());
  CHECK(f.at(0).verdict == Verdict::inconclusive);
  CHECK(f.at(0).message ==
        "scenario never finished (no scenario_done); 3 of 4 workers did not report: a.spin.1, b.spin.0, b.sleep.7");

  // A step that could not apply its cpuset: inconclusive, not pass.
  auto results = good_run().take();
  results.steps[0].errors = {"set_cpuset workload/a: EINVAL"};
  f = check_run(results);
  REQUIRE(f.size() == 1);
  CHECK(f[0].verdict == Verdict::inconclusive);
  CHECK(f[0].at_ms == 5001.0);
  CHECK(f[0].message == "step 0 (planned at 5000 ms, ran at 5001.0 ms) did not apply as planned: set_cpuset "
                        "workload/a: EINVAL");
  CHECK(overall_verdict(evaluate(results, kDefaults)) == Verdict::inconclusive);
  CHECK(exit_code_for(Verdict::inconclusive) == exit_inconclusive);

  results = good_run().take();
  results.reports.erase(2);
  f = check_run(results);
  REQUIRE(f.size() == 1);
  CHECK(f[0].verdict == Verdict::fail);
  CHECK(f[0].worker == "b.spin.0");
  CHECK(f[0].cgroup == "workload/b");
  CHECK(f[0].message == "worker b.spin.0 (id 2) in cgroup workload/b never reported");
  CHECK(exit_code_for(overall_verdict(evaluate(results, kDefaults))) == exit_fail);

  auto killed = report(0, "a.spin.0", "workload/a");
  killed.exit = protocol::WorkerExit::killed;
  killed.exit_text = "killed";
  CHECK_THAT(check_run(with_report(killed)).at(0).message, Catch::Contains("was killed"));
}

TEST_CASE("overall verdict: fail > inconclusive > pass > skip") {
  auto of = [](std::initializer_list<Verdict> vs) {
    std::vector<Finding> f;
    for (auto v : vs) f.push_back(Finding{CheckKind::run, v, {}, {}, {}, {}, ""});
    return overall_verdict(f);
  };
  CHECK(of({}) == Verdict::skip);
  CHECK(of({Verdict::skip, Verdict::skip}) == Verdict::skip);
  CHECK(of({Verdict::skip, Verdict::pass}) == Verdict::pass);
  CHECK(of({Verdict::pass, Verdict::inconclusive, Verdict::skip}) == Verdict::inconclusive);
  CHECK(of({Verdict::inconclusive, Verdict::fail, Verdict::pass}) == Verdict::fail);
  CHECK(exit_code_for(Verdict::fail) == 1);
  CHECK(exit_code_for(Verdict::inconclusive) == 2);
  CHECK(exit_code_for(Verdict::pass) == 0);
  CHECK(exit_code_for(Verdict::skip) == 0);
}

TEST_CASE("human summary: per cgroup digest, non-pass findings, verdict") {
  auto r = report(1, "a.spin.1", "workload/a");
  r.max_gap_ms = 2500;
  r.max_gap_at_ms = 4410;
  r.max_gap_cpu = 0;
  r.work_units = 7;
  auto results = with_report(r);
  auto rep = make_scenario_report(results, kDefaults);
  std::ostringstream out;
  print_scenario_summary(out, rep);
  const std::string text = out.str();
  INFO(text);
  CHECK_THAT(text, Catch::Contains("cgroup workload/a (cpus 0-1): 2 of 2 workers reported"));
  CHECK_THAT(text, Catch::Contains("off-CPU 50.0% (a.spin.0) .. 50.0% (a.spin.0), spread 0.0 points"));
  CHECK_THAT(text, Catch::Contains("worst gap 2500.0 ms (a.spin.1, CPU 0, at 4410.0 ms)"));
  CHECK_THAT(text, Catch::Contains("migrations 6, work units 7 .. 100000"));
  CHECK_THAT(text, Catch::Contains("fail [gap] worker a.spin.1 in cgroup workload/a made no progress for 2500.0 ms"));
  CHECK_THAT(text, Catch::Contains("skip [throughput] throughput spread not configured"));
  CHECK_THAT(text, !Catch::Contains("pass ["));
  CHECK_THAT(text, Catch::EndsWith("scenario verdict: fail\n"));
}

TEST_CASE("JSON report carries verdict, findings, cgroups, workers, scheduler and timing") {
  auto r = report(0, "a.spin.0", "workload/a");
  r.isolation = {1, 2u, 50.0, std::vector<uint32_t>{0, 1}};
  auto results = with_report(r);
  results.reports.erase(7);
  auto rep = make_scenario_report(results, kDefaults);
  json j = json::parse(dump_report_json(scenario_report_json(rep, results, kDefaults)));
  CHECK(j["schema"] == "ktstr-scenario-report/1");
  CHECK(j["scenario"] == "steady");
  CHECK(j["verdict"] == "fail");
  CHECK(j["exit_code"] == 1);
  CHECK(j["thresholds"]["max_gap_ms"] == 2000.0);
  CHECK(j["thresholds"]["throughput_spread_pct"].is_null());
  bool saw_isolation = false;
  for (const auto& f : j["findings"]) {
    for (const char* key : {"check", "verdict", "worker", "cgroup", "cpu", "at_ms", "message"}) CHECK(f.contains(key));
    if (f["check"] == "isolation" && f["verdict"] == "fail") {
      saw_isolation = true;
      CHECK(f["worker"] == "a.spin.0");
      CHECK(f["cpu"] == 2);
      CHECK(f["at_ms"] == 50.0);
    }
  }
  CHECK(saw_isolation);
  REQUIRE(j["cgroups"].size() == 2);
  CHECK(j["cgroups"][0]["path"] == "workload/a");
  CHECK(j["cgroups"][0]["planned_cpus"] == json({0, 1}));
  CHECK(j["cgroups"][0]["reported_workers"] == 2);
  CHECK(j["cgroups"][0]["off_cpu_pct"]["spread"] == 0.0);
  CHECK(j["cgroups"][0]["worst_gap"]["ms"] == 4.0);
  CHECK(j["cgroups"][0]["migrations"] == 6);
  CHECK(j["cgroups"][0]["work_units"]["max"] == 100000);
  CHECK(j["cgroups"][1]["planned_cpus"].is_null());
  REQUIRE(j["workers"].size() == 3);
  CHECK(j["workers"][0]["name"] == "a.spin.0");
  CHECK(j["workers"][0]["policy"] == "normal");
  CHECK(j["workers"][0]["isolation"]["first_allowed"] == json({0, 1}));
  CHECK(j["workers"][0]["wake_latency_us"].is_null());
  CHECK(j["missing_workers"] == json::parse(R"([{"id":7,"name":"b.sleep.7","cgroup":"workload/b"}])"));
  CHECK(j["scheduler"]["path"] == "/ktstr/sched/scx_simple");
  CHECK(j["scheduler"]["events"][1]["state"] == "enabled");
  CHECK(j["scheduler"]["events"][1]["after_ms"] == 812.0);
  CHECK(j["timing"]["wall_ms"] == 10012.0);
  CHECK(j["timing"]["started_uptime_s"] == 3.2);
  CHECK(j["timing"]["steps"][0]["late_ms"] == 1.0);
  CHECK(j["run"]["started"] == true);
  CHECK(j["run"]["finished"] == true);
  CHECK(j["run"]["protocol_problems"].empty());
}

TEST_CASE("XML escaping of untrusted text") {
  CHECK(xml_escape("a<b>&\"c'", false) == "a&lt;b&gt;&amp;&quot;c&apos;");
  CHECK(xml_escape("tab\tnl\ncr\r", false) == "tab\tnl\ncr&#13;");
  CHECK(xml_escape("tab\tnl\ncr\r", true) == "tab&#9;nl&#10;cr&#13;");
  CHECK(xml_escape(std::string("nul\0bel\x07\x1b", 9), false) == "nul\\x00bel\\x07\\x1b");
  CHECK(xml_escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", false) == "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  CHECK(xml_escape("bad \xff\xc3 \xed\xa0\x80 \xef\xbf\xbe \xc0\xaf", false) ==
        "bad \\xff\\xc3 \\xed\\xa0\\x80 \\xef\\xbf\\xbe \\xc0\\xaf");
}

TEST_CASE("JUnit XML: one testcase per check, failures, errors, skips, hostile names escaped") {
  const std::string hostile = std::string("w<&\"'>\x01\x1f\x7f\r\n]]>", 14);
  auto r = report(1, hostile, "workload/a");
  r.work_units = 0;
  auto results = with_report(r);
  results.plan.workers[1].name = hostile;  // the plan agrees
  results.steps[0].errors = {"</failure><evil/>"};
  auto died = sched(protocol::SchedulerState::died);
  died.at_ms = 2004;
  died.output = {std::string("out\x02<x>&", 9)};
  results.scheduler_events.push_back(died);
  auto rep = make_scenario_report(results, kDefaults);
  const std::string xml = junit_xml(rep);
  INFO(xml);

  CHECK_THAT(xml, Catch::StartsWith("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"));
  // The monitor's three checks are skips here: the run had no monitor; so is payload: it had none.
  CHECK_THAT(xml, Catch::Contains("<testsuite name=\"steady\" tests=\"11\" failures=\"2\" errors=\"1\" skipped=\"5\">"));
  for (const char* name : {"starvation", "fairness", "gap", "isolation", "throughput", "scheduler", "run",
                           "predicted_stall", "rq_clock", "imbalance", "payload"})
    CHECK_THAT(xml, Catch::Contains(std::string("name=\"") + name + "\""));
  CHECK_THAT(xml, Catch::Contains("<failure message=\"worker w&lt;&amp;&quot;&apos;&gt;\\x01\\x1f"));
  CHECK_THAT(xml, Catch::Contains("<error message=\"step 0"));
  CHECK_THAT(xml, Catch::Contains("&lt;/failure&gt;&lt;evil/&gt;"));
  CHECK_THAT(xml, Catch::Contains("<skipped message=\"throughput spread not configured\"/>"));
  CHECK_THAT(xml, !Catch::Contains("<evil/>"));
  CHECK_THAT(xml, !Catch::Contains("\x01"));
  CHECK_THAT(xml, !Catch::Contains("\x02"));

  // Structure: every opened element is closed, in order.
  std::vector<std::string> stack;
  for (std::size_t i = xml.find("?>") + 2; (i = xml.find('<', i)) != std::string::npos; ++i) {
    std::size_t end = xml.find('>', i);
    REQUIRE(end != std::string::npos);
    std::string tag = xml.substr(i + 1, end - i - 1);
    if (tag[0] == '/') {
      REQUIRE_FALSE(stack.empty());
      CHECK(stack.back() == tag.substr(1));
      stack.pop_back();
    } else if (tag.back() != '/') {
      stack.push_back(tag.substr(0, tag.find(' ')));
    }
  }
  CHECK(stack.empty());

  // And a real XML parser, when one is installed.
  if (std::system("command -v xmllint >/dev/null 2>&1") == 0) {
    char path[] = "/tmp/ktstr-junit-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    ::close(fd);
    std::ofstream(path) << xml;
    CHECK(std::system((std::string("xmllint --noout ") + path).c_str()) == 0);
    std::remove(path);
  }
}
