// Parsing of the scenario events of docs/scenario-protocol.md: good lines from the doc,
// and every kind of malformed line (wrong type, missing field, oversized, non-finite,
// negative).
#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "apps/protocol/agent_events.hpp"
#include "tests/support/agent_lines.hpp"

using namespace ktstr::protocol;
using ktstr::test::error_of;
using ktstr::test::event_of;
using nlohmann::json;

namespace {

const char* kWorkerReport =
    R"({"event":"worker_report","seq":42,
 "id":0,"name":"a.spin.0","cgroup":"workload/a","type":"spin","pid":61,
 "started_ms":0,"stopped_ms":10003,
 "work_units":123456,"cpu_ms":4990.2,"wall_ms":10003.1,"off_cpu_ms":5012.9,
 "migrations":12,"cpus_used":[0,1],
 "max_gap_ms":3.1,"max_gap_at_ms":4410.0,"max_gap_cpu":1,
 "wake_latency_us":{"count":1000,"p50":40,"p99":800,"max":2100},
 "schedstat":{"run_ns":4990200000,"wait_ns":5000000000,"timeslices":2100},
 "isolation":{"violations":0,"first_cpu":null,"first_at_ms":null,"first_allowed":null},
 "exit":"ok"})";

json worker_json() { return json::parse(kWorkerReport); }

std::string with(json j, const std::string& key, json value) {
  j[key] = std::move(value);
  return j.dump();
}

std::string without(json j, const std::string& key) {
  j.erase(key);
  return j.dump();
}

}  // namespace

TEST_CASE("scheduler events from the protocol doc parse with their fields") {
  auto started = event_of<SchedulerEvent>(
      R"({"event":"scheduler","seq":1,"state":"started","pid":57,"path":"/ktstr/sched/scx_simple"})");
  CHECK(started.state == SchedulerState::started);
  CHECK(started.pid == 57u);
  CHECK(started.path == "/ktstr/sched/scx_simple");
  CHECK_FALSE(started.at_ms);

  auto enabled = event_of<SchedulerEvent>(R"({"event":"scheduler","seq":2,"state":"enabled","after_ms":812,"ops":"simple"})");
  CHECK(enabled.state == SchedulerState::enabled);
  CHECK(enabled.after_ms == 812.0);
  CHECK(enabled.ops == "simple");

  auto timeout = event_of<SchedulerEvent>(
      R"({"event":"scheduler","seq":3,"state":"enable_timeout","after_ms":10000,"sched_ext_state":"disabled","output":["a","b"]})");
  CHECK(timeout.state == SchedulerState::enable_timeout);
  CHECK(timeout.sched_ext_state == "disabled");
  CHECK(timeout.output == std::vector<std::string>{"a", "b"});

  auto died = event_of<SchedulerEvent>(
      R"({"event":"scheduler","seq":4,"state":"died","at_ms":2004,"status":"exit 1","output":["last lines"]})");
  CHECK(died.state == SchedulerState::died);
  CHECK(died.at_ms == 2004.0);
  CHECK(died.status == "exit 1");

  // at_ms is relative to t0 and may be negative (before the scenario started).
  auto ejected = event_of<SchedulerEvent>(
      R"({"event":"scheduler","seq":5,"state":"ejected","at_ms":-20.5,"sched_ext_state":"disabled","output":[]})");
  CHECK(ejected.state == SchedulerState::ejected);
  CHECK(ejected.at_ms == -20.5);

  auto unsupported = event_of<SchedulerEvent>(
      R"j({"event":"scheduler","seq":6,"state":"unsupported","reason":"no /sys/kernel/sched_ext (kernel built without CONFIG_SCHED_CLASS_EXT)"})j");
  CHECK(unsupported.state == SchedulerState::unsupported);
  CHECK_THAT(*unsupported.reason, Catch::Contains("CONFIG_SCHED_CLASS_EXT"));

  auto stopped = event_of<SchedulerEvent>(R"({"event":"scheduler","seq":7,"state":"stopped","at_ms":10050})");
  CHECK(stopped.state == SchedulerState::stopped);
  CHECK(scheduler_state_name(stopped.state) == "stopped");
}

TEST_CASE("scenario_started, step and scenario_done parse") {
  auto started = event_of<ScenarioStarted>(
      R"({"event":"scenario_started","seq":8,"name":"steady","workers":4,"usable_cpus":[0,1,2,3],"uptime_s":3.2})");
  CHECK(started.name == "steady");
  CHECK(started.workers == 4);
  CHECK(started.usable_cpus == std::vector<uint32_t>{0, 1, 2, 3});
  CHECK(started.uptime_s == Approx(3.2));

  auto step = event_of<StepEvent>(
      R"({"event":"step","seq":9,"index":0,"at_ms":5001,"planned_ms":5000,"errors":["set_cpuset workload/a: EINVAL"]})");
  CHECK(step.index == 0);
  CHECK(step.at_ms == 5001.0);
  CHECK(step.planned_ms == 5000.0);
  CHECK(step.errors == std::vector<std::string>{"set_cpuset workload/a: EINVAL"});

  auto done = event_of<ScenarioDone>(R"({"event":"scenario_done","seq":10,"wall_ms":10012,"errors":[]})");
  CHECK(done.wall_ms == 10012.0);
  CHECK(done.errors.empty());

  auto parsed = parse_agent_line(R"({"event":"scenario_done","seq":10,"wall_ms":10012,"errors":[]})");
  CHECK(event_name(std::get<AgentEvent>(parsed)) == "scenario_done");
  CHECK(event_seq(std::get<AgentEvent>(parsed)) == 10);
}

TEST_CASE("worker_report from the protocol doc parses every field") {
  auto r = event_of<WorkerReport>(kWorkerReport);
  CHECK(r.seq == 42);
  CHECK(r.id == 0);
  CHECK(r.name == "a.spin.0");
  CHECK(r.cgroup == "workload/a");
  CHECK(r.type == "spin");
  CHECK(r.pid == 61);
  CHECK(r.started_ms == 0);
  CHECK(r.stopped_ms == 10003);
  CHECK(r.work_units == 123456);
  CHECK(r.cpu_ms == Approx(4990.2));
  CHECK(r.wall_ms == Approx(10003.1));
  CHECK(r.off_cpu_ms == Approx(5012.9));
  CHECK(r.migrations == 12);
  CHECK(r.cpus_used == std::vector<uint32_t>{0, 1});
  CHECK(r.max_gap_ms == Approx(3.1));
  CHECK(r.max_gap_at_ms == 4410.0);
  CHECK(r.max_gap_cpu == 1u);
  REQUIRE(r.wake_latency_us);
  CHECK(r.wake_latency_us->count == 1000);
  CHECK(r.wake_latency_us->p50_us == 40);
  CHECK(r.wake_latency_us->p99_us == 800);
  CHECK(r.wake_latency_us->max_us == 2100);
  REQUIRE(r.schedstat);
  CHECK(r.schedstat->run_ns == 4990200000ull);
  CHECK(r.schedstat->wait_ns == 5000000000ull);
  CHECK(r.schedstat->timeslices == 2100);
  CHECK(r.isolation.violations == 0);
  CHECK_FALSE(r.isolation.first_cpu);
  CHECK_FALSE(r.isolation.first_at_ms);
  CHECK_FALSE(r.isolation.first_allowed);
  CHECK(r.exit == WorkerExit::ok);
  CHECK(event_name(AgentEvent{r}) == "worker_report");
}

TEST_CASE("worker_report nullable fields may be null or absent") {
  auto j = worker_json();
  j["wake_latency_us"] = nullptr;
  j.erase("schedstat");
  j["max_gap_at_ms"] = nullptr;
  j.erase("max_gap_cpu");
  j["isolation"] = {{"violations", 3}, {"first_cpu", 2}, {"first_at_ms", 120.5}, {"first_allowed", {0, 1}}};
  j["exit"] = "error: sched_setscheduler: EPERM";
  auto r = event_of<WorkerReport>(j.dump());
  CHECK_FALSE(r.wake_latency_us);
  CHECK_FALSE(r.schedstat);
  CHECK_FALSE(r.max_gap_at_ms);
  CHECK_FALSE(r.max_gap_cpu);
  CHECK(r.isolation.violations == 3);
  CHECK(r.isolation.first_cpu == 2u);
  CHECK(r.isolation.first_at_ms == 120.5);
  CHECK(r.isolation.first_allowed == std::vector<uint32_t>{0, 1});
  CHECK(r.exit == WorkerExit::error);
  CHECK(r.exit_text == "error: sched_setscheduler: EPERM");
  CHECK(event_of<WorkerReport>(with(worker_json(), "exit", "killed")).exit == WorkerExit::killed);
}

TEST_CASE("scenario events with wrong field types are protocol errors naming the field") {
  CHECK(error_of(R"({"event":"scheduler","seq":0,"state":7})") == "scheduler: state must be a string, got number");
  CHECK(error_of(R"({"event":"scheduler","seq":0,"state":"sleeping"})") == "scheduler: unknown state \"sleeping\"");
  CHECK(error_of(R"({"event":"scheduler","seq":0,"state":"started","pid":"57"})") ==
        "scheduler: pid must be an unsigned integer, got string");
  CHECK(error_of(R"({"event":"scheduler","seq":0,"state":"died","at_ms":1,"output":"x"})") ==
        "scheduler: output must be an array, got string");
  CHECK(error_of(R"({"event":"scheduler","seq":0,"state":"died","at_ms":1,"output":[1]})") ==
        "scheduler: output[0] must be a string, got number");
  CHECK(error_of(R"({"event":"scenario_started","seq":0,"name":"s","workers":1,"usable_cpus":"0-3","uptime_s":1})") ==
        "scenario_started: usable_cpus must be an array, got string");
  CHECK(error_of(R"({"event":"step","seq":0,"index":0,"at_ms":"5","planned_ms":5,"errors":[]})") ==
        "step: at_ms must be a number, got string");
  CHECK(error_of(with(worker_json(), "work_units", 1.5)) ==
        "worker_report: work_units must be an unsigned integer, got number");
  CHECK(error_of(with(worker_json(), "name", 3)) == "worker_report: name must be a string, got number");
  CHECK(error_of(with(worker_json(), "cpus_used", {0, "1"})) ==
        "worker_report: cpus_used[1] must be an unsigned integer, got string");
  CHECK(error_of(with(worker_json(), "isolation", 0)) == "worker_report: isolation must be an object, got number");
  CHECK(error_of(with(worker_json(), "schedstat", json::array())) ==
        "worker_report: schedstat must be an object, got array");
  CHECK(error_of(with(worker_json(), "exit", "fine")) ==
        "worker_report: exit \"fine\" is not ok, killed or error: <why>");
  CHECK(error_of(R"({"event":"scenario_done","seq":0,"wall_ms":1,"errors":[null]})") ==
        "scenario_done: errors[0] must be a string, got null");
}

TEST_CASE("scenario events with missing fields are protocol errors") {
  CHECK(error_of(R"({"event":"scheduler","seq":0})") == "scheduler: state is missing");
  CHECK(error_of(R"({"event":"scheduler","seq":0,"state":"died","status":"exit 1"})") ==
        "scheduler: died: at_ms is missing");
  CHECK(error_of(R"({"event":"scheduler","seq":0,"state":"enabled"})") == "scheduler: enabled: after_ms is missing");
  CHECK(error_of(R"({"event":"scenario_started","seq":0,"workers":1,"usable_cpus":[0],"uptime_s":1})") ==
        "scenario_started: name is missing");
  CHECK(error_of(R"({"event":"step","seq":0,"index":0,"at_ms":5,"planned_ms":5})") == "step: errors is missing");
  CHECK(error_of(R"({"event":"scenario_done","seq":0,"errors":[]})") == "scenario_done: wall_ms is missing");
  for (const char* key : {"id", "name", "cgroup", "type", "pid", "started_ms", "stopped_ms", "work_units", "cpu_ms",
                          "wall_ms", "off_cpu_ms", "migrations", "cpus_used", "max_gap_ms", "isolation", "exit"}) {
    INFO(key);
    CHECK(error_of(without(worker_json(), key)) == std::string("worker_report: ") + key + " is missing");
  }
  auto j = worker_json();
  j["wake_latency_us"].erase("p99");
  CHECK(error_of(j.dump()) == "worker_report: wake_latency_us.p99 is missing");
  j = worker_json();
  j["isolation"].erase("violations");
  CHECK(error_of(j.dump()) == "worker_report: isolation.violations is missing");
}

TEST_CASE("oversized lists and strings in scenario events are rejected") {
  json big_list = json::array();
  for (int i = 0; i <= 4096; ++i) big_list.push_back(i % 4);
  CHECK(error_of(with(worker_json(), "cpus_used", big_list)) ==
        "worker_report: cpus_used has 4097 entries; at most 4096");
  json many_lines = json::array();
  for (int i = 0; i <= 4096; ++i) many_lines.push_back("x");
  CHECK(error_of(json{{"event", "scenario_done"}, {"seq", 0}, {"wall_ms", 1}, {"errors", many_lines}}.dump()) ==
        "scenario_done: errors has 4097 entries; at most 4096");
  CHECK(error_of(with(worker_json(), "name", std::string(4097, 'n'))) ==
        "worker_report: name has 4097 bytes; at most 4096");
  CHECK(event_of<WorkerReport>(with(worker_json(), "name", std::string(4096, 'n'))).name.size() == 4096);
  CHECK(error_of(json{{"event", "scheduler"}, {"seq", 0}, {"state", "died"}, {"at_ms", 1},
                      {"output", {std::string(5000, 'o')}}}.dump()) ==
        "scheduler: output[0] has 5000 bytes; at most 4096");
  CHECK(error_of(with(worker_json(), "cpus_used", {0, 4096})) == "worker_report: cpus_used[1] = 4096 is above 4095");
  CHECK(error_of(with(worker_json(), "id", 4294967296ull)) == "worker_report: id = 4294967296 is above 4294967295");
}

TEST_CASE("non-finite and negative numbers in scenario events are rejected") {
  // JSON has no NaN literal; an overflowing exponent is how infinity arrives.
  CHECK_THAT(error_of(R"({"event":"scenario_done","seq":0,"wall_ms":NaN,"errors":[]})"),
             Catch::StartsWith("invalid JSON"));
  auto inf = std::string(kWorkerReport);
  inf.replace(inf.find("\"cpu_ms\":4990.2"), 15, "\"cpu_ms\":1e999");
  // nlohmann refuses it while parsing; the parser's own finite check stays as a guard.
  CHECK_THAT(error_of(inf), Catch::Contains("number overflow"));
  CHECK(error_of(with(worker_json(), "off_cpu_ms", -1.0)) == "worker_report: off_cpu_ms must not be negative");
  CHECK(error_of(with(worker_json(), "max_gap_ms", -0.5)) == "worker_report: max_gap_ms must not be negative");
  CHECK(error_of(with(worker_json(), "migrations", -3)) ==
        "worker_report: migrations must be an unsigned integer, got negative integer");
  CHECK(error_of(with(worker_json(), "max_gap_cpu", -1)) ==
        "worker_report: max_gap_cpu must be an unsigned integer, got negative integer");
  CHECK(error_of(R"({"event":"step","seq":0,"index":0,"at_ms":-5,"planned_ms":5,"errors":[]})") ==
        "step: at_ms must not be negative");
  CHECK(error_of(R"({"event":"scheduler","seq":0,"state":"enabled","after_ms":-1})") ==
        "scheduler: after_ms must not be negative");
  CHECK(error_of(R"({"event":"scenario_started","seq":0,"name":"s","workers":1,"usable_cpus":[0],"uptime_s":-1})") ==
        "scenario_started: uptime_s must be finite and not negative");
  auto j = worker_json();
  j["wake_latency_us"]["p50"] = -4;
  CHECK(error_of(j.dump()) == "worker_report: wake_latency_us.p50 must not be negative");
}
