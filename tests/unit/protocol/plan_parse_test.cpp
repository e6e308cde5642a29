#include <catch2/catch.hpp>

#include <string>

#include "apps/protocol/plan_limits.hpp"
#include "apps/protocol/plan.hpp"

using namespace ktstr::protocol;

namespace {

const std::string kGood = R"({
  "version": 1, "name": "steady", "duration_ms": 10000, "usable_cpus": [0, 1, 2, 3],
  "checkpoint_us": 1000, "rt_runtime_us": -1,
  "cgroups": [{"path": "workload/a", "cpus": [0, 1]}, {"path": "workload/b", "cpus": null}],
  "workers": [
    {"id": 0, "name": "a.spin.0", "cgroup": "workload/a", "type": "spin", "policy": "normal",
     "priority": 0, "nice": 0, "affinity": null, "start_ms": 0, "params": {}},
    {"id": 1, "name": "p.0", "cgroup": "workload/b", "type": "pipe_pingpong", "policy": "fifo",
     "priority": 10, "nice": 0, "affinity": [2, 3], "start_ms": 0, "params": {"partner": 2}},
    {"id": 2, "name": "p.1", "cgroup": "workload/b", "type": "pipe_pingpong", "policy": "normal",
     "priority": 0, "nice": 19, "affinity": null, "start_ms": 0, "params": {"partner": 1, "work_us": 5}}
  ],
  "steps": [
    {"at_ms": 5000, "ops": [
      {"op": "set_cpuset", "cgroup": "workload/a", "cpus": [0, 1, 2]},
      {"op": "clear_cpuset", "cgroup": "workload/a"},
      {"op": "add_cgroup", "cgroup": "workload/c", "cpus": [3]},
      {"op": "spawn", "workers": [{"id": 7, "name": "c.sleep", "cgroup": "workload/c", "type": "sleep",
                                   "policy": "batch", "start_ms": 5000, "params": {"sleep_us": 500}}]},
      {"op": "stop", "workers": [0]},
      {"op": "move_tasks", "from": "workload/a", "to": "workload/b"},
      {"op": "set_affinity", "workers": [7], "cpus": [1]},
      {"op": "remove_cgroup", "cgroup": "workload/c"}
    ]}
  ],
  "scheduler": {"path": "/ktstr/sched/scx_simple", "args": ["-v"], "enable_timeout_ms": 10000}
})";

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

std::string errors_of(const std::string& text) {
  auto r = parse_plan(text);
  CHECK_FALSE(r.plan);
  std::string all;
  for (auto& e : r.errors) all += e + "\n";
  return all;
}

}  // namespace

TEST_CASE("agent plan: a complete plan parses", "[agent][plan]") {
  auto r = parse_plan(kGood);
  INFO((r.errors.empty() ? "" : r.errors.front()));
  REQUIRE(r.plan);
  const Plan& p = *r.plan;
  CHECK(p.name == "steady");
  CHECK(p.duration_ms == 10000);
  CHECK(p.rt_runtime_us == -1);
  REQUIRE(p.cgroups.size() == 2);
  CHECK(p.cgroups[0].cpus == std::vector<int>{0, 1});
  CHECK_FALSE(p.cgroups[1].cpus);
  REQUIRE(p.workers.size() == 3);
  CHECK(p.workers[1].type == WorkType::pipe_pingpong);
  CHECK(p.workers[1].policy == Policy::fifo);
  CHECK(p.workers[1].priority == 10);
  CHECK(p.workers[1].params.partner == 2u);
  CHECK(p.workers[2].params.work_us == 5);
  CHECK(p.workers[2].params.sleep_us == 1000);  // default
  REQUIRE(p.steps.size() == 1);
  REQUIRE(p.steps[0].ops.size() == 8);
  CHECK(p.steps[0].ops[3].kind == Op::Kind::spawn);
  CHECK(p.steps[0].ops[3].spawn.at(0).policy == Policy::batch);
  REQUIRE(p.scheduler);
  CHECK(p.scheduler->args == std::vector<std::string>{"-v"});
}

TEST_CASE("agent plan: the minimal plan parses with defaults", "[agent][plan]") {
  auto r = parse_plan(R"({"version":1,"name":"m","duration_ms":100,"usable_cpus":[0],"workers":[]})");
  REQUIRE(r.plan);
  CHECK(r.plan->checkpoint_us == 1000);
  CHECK_FALSE(r.plan->scheduler);
  CHECK_FALSE(r.plan->rt_runtime_us);
}

TEST_CASE("agent plan: bad plans are rejected with the field named", "[agent][plan]") {
  CHECK_THAT(errors_of("not json"), Catch::Contains("not a JSON object"));
  CHECK_THAT(errors_of("[1]"), Catch::Contains("not a JSON object"));
  CHECK_THAT(errors_of(replaced(kGood, R"("version": 1)", R"("version": 2)")), Catch::Contains(".version"));
  CHECK_THAT(errors_of(replaced(kGood, "10000, \"usable", "3600001, \"usable")), Catch::Contains(".duration_ms"));
  CHECK_THAT(errors_of(replaced(kGood, R"("type": "spin")", R"("type": "spinn")")), Catch::Contains("unknown work type"));
  CHECK_THAT(errors_of(replaced(kGood, R"("type": "spin")", R"("type": "test_block")")), Catch::Contains("unknown work type"));
  CHECK_THAT(errors_of(replaced(kGood, R"("priority": 10)", R"("priority": 100)")), Catch::Contains(".priority"));
  CHECK_THAT(errors_of(replaced(kGood, R"("nice": 19)", R"("nice": 20)")), Catch::Contains(".nice"));
  CHECK_THAT(errors_of(replaced(kGood, R"("path": "workload/a")", R"("path": "../etc")")), Catch::Contains("bad cgroup path"));
  CHECK_THAT(errors_of(replaced(kGood, R"("partner": 1,)", R"("partner": 0,)")), Catch::Contains("partner"));
  CHECK_THAT(errors_of(replaced(kGood, R"("workers": [0])", R"("workers": [99])")), Catch::Contains("unknown worker id 99"));
  CHECK_THAT(errors_of(replaced(kGood, R"("at_ms": 5000)", R"("at_ms": 10000)")), Catch::Contains("not before duration_ms"));
  CHECK_THAT(errors_of(replaced(kGood, R"("from": "workload/a")", R"("from": "workload/x")")), Catch::Contains("unknown cgroup workload/x"));
  CHECK_THAT(errors_of(replaced(kGood, R"("id": 7)", R"("id": 2)")), Catch::Contains("duplicate worker id 2"));
  CHECK_THAT(errors_of(replaced(kGood, R"("cpus": [3])", R"("cpus": [1024])")), Catch::Contains("CPU id"));
  CHECK_THAT(errors_of(replaced(kGood, R"("start_ms": 5000)", R"("start_ms": 4000)")), Catch::Contains("start_ms"));
  CHECK_THAT(errors_of(replaced(kGood, R"("path": "/ktstr/sched/scx_simple")", R"("path": "scx")")), Catch::Contains("absolute"));
  CHECK_THAT(errors_of(replaced(kGood, R"("work_us": 5)", R"("wrok_us": 5)")), Catch::Contains("unknown parameter"));
}

TEST_CASE("agent plan: the bounds of the protocol hold", "[agent][plan]") {
  std::string workers;
  for (int i = 0; i < 513; ++i)
    workers += std::string(i ? "," : "") + R"({"id":)" + std::to_string(i) + R"(,"name":"w","type":"spin"})";
  CHECK_THAT(errors_of(R"({"version":1,"name":"m","duration_ms":100,"usable_cpus":[0],"workers":[)" + workers + "]}"),
             Catch::Contains("more than 512 workers"));
  std::string steps;
  for (int i = 0; i < 257; ++i) steps += std::string(i ? "," : "") + R"({"at_ms":1,"ops":[]})";
  CHECK_THAT(errors_of(R"({"version":1,"name":"m","duration_ms":100,"usable_cpus":[0],"workers":[],"steps":[)" + steps + "]}"),
             Catch::Contains("more than 256 steps"));
  std::string cgroups;
  for (int i = 0; i < 65; ++i) cgroups += std::string(i ? "," : "") + R"({"path":"c)" + std::to_string(i) + R"("})";
  CHECK_THAT(errors_of(R"({"version":1,"name":"m","duration_ms":100,"usable_cpus":[0],"workers":[],"cgroups":[)" + cgroups + "]}"),
             Catch::Contains("more than 64 cgroups"));
}

TEST_CASE("agent plan: worker params are checked against the shared table (apps/protocol/plan_limits.hpp)", "[agent][plan]") {
  // The host's scenario parser uses the same table (tests/unit/plan_limits_test.cpp).
  auto plan_with = [](std::string_view name, int64_t v) {
    return R"({"version":1,"name":"m","duration_ms":100,"usable_cpus":[0],"workers":[{"id":0,"name":"w","type":"spin",)"
           R"("params":{")" + std::string(name) + "\":" + std::to_string(v) + "}}]}";
  };
  for (const auto& [name, range] : ktstr::protocol::kWorkerParams) {
    INFO(name);
    for (auto v : {range.min, range.max}) {
      auto r = parse_plan(plan_with(name, v));
      INFO((r.errors.empty() ? "" : r.errors.front()));
      CHECK(r.plan);
    }
    for (auto v : {range.min - 1, range.max + 1})
      CHECK_THAT(errors_of(plan_with(name, v)), Catch::Contains(".params." + std::string(name) + ": " + std::to_string(v) + " outside"));
  }
  // The values the host once accepted and the agent refused (a run then ended inconclusive).
  CHECK(parse_plan(plan_with("work_us", 2'000'000)).plan);
  CHECK(parse_plan(plan_with("burst_ms", 60'000)).plan);
  CHECK(parse_plan(plan_with("cache_kib", 1)).plan);
}

TEST_CASE("agent plan: payloads parse, and bad ones are refused with the field named", "[agent][plan]") {
  const std::string head = R"({"version":1,"name":"m","duration_ms":100,"usable_cpus":[0],"workers":[],)"
                           R"("cgroups":[{"path":"workload/a"}],)";
  const std::string good = R"({"id":0,"name":"hackbench","path":"/ktstr/payload/0/hackbench","args":["-l","10"],"cgroup":"workload/a","start_ms":5})";
  auto r = parse_plan(head + R"("payloads":[)" + good + R"(],"end_with_payloads":true})");
  INFO((r.errors.empty() ? "" : r.errors.front()));
  REQUIRE(r.plan);
  REQUIRE(r.plan->payloads.size() == 1);
  CHECK(r.plan->payloads[0].args == std::vector<std::string>{"-l", "10"});
  CHECK(r.plan->payloads[0].cgroup == "workload/a");
  CHECK(r.plan->payloads[0].start_ms == 5);
  CHECK(r.plan->end_with_payloads);

  auto with = [&](const std::string& payload, const std::string& tail = "") {
    return errors_of(head + R"("payloads":[)" + payload + "]" + tail + "}");
  };
  CHECK_THAT(with(replaced(good, "/ktstr/payload/0/hackbench", "hackbench")), Catch::Contains(".payloads[0].path"));
  CHECK_THAT(with(replaced(good, "workload/a", "workload/x")), Catch::Contains("unknown cgroup workload/x"));
  CHECK_THAT(with(replaced(good, R"("name":"hackbench")", R"("name":"a b")")), Catch::Contains(".payloads[0].name"));
  CHECK_THAT(with(replaced(good, R"(["-l","10"])", "[1]")), Catch::Contains(".payloads[0].args"));
  CHECK_THAT(with(good + "," + good), Catch::Contains("duplicate payload id 0"));
  CHECK_THAT(with(replaced(good, R"("start_ms":5)", R"("start_ms":3600001)")), Catch::Contains(".start_ms"));
  std::string many;
  for (int i = 0; i < 17; ++i) many += std::string(i ? "," : "") + replaced(good, R"("id":0)", R"("id":)" + std::to_string(i));
  CHECK_THAT(with(many), Catch::Contains("at most 16 payloads"));
  CHECK_THAT(errors_of(head + R"("end_with_payloads":true})"), Catch::Contains("without payloads"));
}

TEST_CASE("agent plan: fault ops parse, read back unchanged, and bad values name the field", "[agent][plan][fault]") {
  const std::string head = R"({"version":1,"name":"m","duration_ms":1000,"usable_cpus":[0],"workers":[],)"
                           R"("cgroups":[{"path":"workload/a"}],"steps":[{"at_ms":5,"ops":[)";
  const std::string ops = R"({"op":"scheduler_kill","signal":9},{"op":"cpu_offline","cpu":1},)"
                          R"({"op":"cpu_online","cpu":1},{"op":"cgroup_freeze","cgroup":"workload/a","for_ms":2000})";
  auto r = parse_plan(head + ops + "]}]}");
  INFO((r.errors.empty() ? "" : r.errors.front()));
  REQUIRE(r.plan);
  const auto& got = r.plan->steps.at(0).ops;
  REQUIRE(got.size() == 4);
  CHECK(got[0].kind == Op::Kind::scheduler_kill);
  CHECK(got[0].signal == 9);
  CHECK(got[1].kind == Op::Kind::cpu_offline);
  CHECK(got[2].cpu == 1);
  CHECK(got[3].cgroup == "workload/a");
  CHECK(got[3].for_ms == 2000);
  auto again = parse_plan(to_json(*r.plan).dump());
  REQUIRE(again.plan);
  CHECK(*again.plan == *r.plan);

  CHECK_THAT(errors_of(head + R"({"op":"scheduler_kill","signal":0})" + "]}]}"), Catch::Contains(".signal"));
  CHECK_THAT(errors_of(head + R"({"op":"scheduler_kill"})" + "]}]}"), Catch::Contains(".signal: missing"));
  CHECK_THAT(errors_of(head + R"({"op":"cpu_offline","cpu":1024})" + "]}]}"), Catch::Contains(".cpu"));
  CHECK_THAT(errors_of(head + R"({"op":"cgroup_freeze","cgroup":"workload/b","for_ms":5})" + "]}]}"),
             Catch::Contains("unknown cgroup workload/b"));
  CHECK_THAT(errors_of(head + R"({"op":"cgroup_freeze","cgroup":"workload/a","for_ms":0})" + "]}]}"), Catch::Contains(".for_ms"));
}
