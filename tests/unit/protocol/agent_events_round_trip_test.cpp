// One event format on both sides of the wire (apps/protocol/agent_events.hpp): every kind
// of event the agent emits, written by protocol::to_json as the agent's channel does,
// reads back through the host's parser as the same event, with optional fields both
// present and absent.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "apps/protocol/agent_events.hpp"

using namespace ktstr::protocol;

namespace {

AgentEvent round_trip(const AgentEvent& event) {
  const std::string line = to_json(event).dump();
  INFO(line);
  ParsedLine parsed = parse_agent_line(line);
  if (auto* error = std::get_if<ProtocolError>(&parsed)) FAIL("the host refuses the agent's line: " << error->message);
  return std::get<AgentEvent>(parsed);
}

WorkerReport full_report() {
  WorkerReport r;
  r.seq = 9;
  r.id = 3;
  r.name = "a.sleep.1";
  r.cgroup = "workload/a";
  r.type = "sleep";
  r.pid = 77;
  r.started_ms = 1;
  r.stopped_ms = 10001;
  r.work_units = 123456;
  r.cpu_ms = 12.5;
  r.wall_ms = 10000;
  r.off_cpu_ms = 9987.5;
  r.migrations = 4;
  r.cpus_used = {0, 2, 3};
  r.max_gap_ms = 3.2;
  r.max_gap_at_ms = 4567.8;
  r.max_gap_cpu = 2;
  r.wake_latency_us = WakeLatency{1000, 55, 310, 1200};
  r.schedstat = SchedStat{12'000'000, 3'000'000, 1000};
  r.isolation = IsolationReport{2, 5u, 250.5, std::vector<uint32_t>{0, 1}};
  r.exit = WorkerExit::error;
  r.exit_text = "error: exit status 3";
  return r;
}

/// As the agent sends a worker that was never forked: cgroup "" (its own), pid 0, no times.
WorkerReport never_started() {
  WorkerReport r;
  r.seq = 10;
  r.id = 4;
  r.name = "b.spin.0";
  r.type = "spin";
  r.exit = WorkerExit::error;
  r.exit_text = "error: fork: Resource temporarily unavailable";
  return r;
}

}  // namespace

TEST_CASE("every event the agent emits reads back through the host's parser unchanged") {
  ObservedCpu full_cpu{1, 0u, 0u, 1u, std::vector<uint32_t>{0, 1}, std::vector<uint32_t>{0, 1, 2, 3}, 3u, 0u};
  ObservedCpu bare_cpu;  // every sysfs file unreadable
  bare_cpu.cpu = 2;
  SchedulerEvent died;
  died.seq = 5;
  died.state = SchedulerState::died;
  died.pid = 44;
  died.path = "/ktstr/sched/scx_simple";
  died.after_ms = 12;
  died.at_ms = -3;
  died.ops = "simple";
  died.sched_ext_state = "disabled";
  died.status = "signal 9";
  died.reason = "killed";
  died.output = {"line one", "line two"};
  SchedulerEvent stopped;
  stopped.seq = 6;
  stopped.state = SchedulerState::stopped;
  stopped.at_ms = 10000;

  PayloadReport payload_exited;
  payload_exited.seq = 12;
  payload_exited.id = 0;
  payload_exited.name = "hackbench";
  payload_exited.pid = 301;
  payload_exited.started_ms = 2.5;
  payload_exited.ended_ms = 1840.1;
  payload_exited.exit_code = 0;
  payload_exited.output = {"Running in process mode with 1 groups", "Time: 1.803"};
  PayloadReport payload_stopped = payload_exited;
  payload_stopped.exit_code.reset();
  payload_stopped.signal = 15;
  payload_stopped.stopped = true;
  payload_stopped.output.clear();
  PayloadReport payload_never;
  payload_never.seq = 13;
  payload_never.id = 1;
  payload_never.name = "late";
  payload_never.stopped = true;
  payload_never.error = "not started: the scenario ended first";

  const std::vector<AgentEvent> events = {
      BootDone{0, 2.28},
      KernelInfo{1, "6.12.118", "#1 SMP", "x86_64", "console=ttyS0", true},
      KernelInfo{1, "6.1.0", "#1", "x86_64", std::nullopt, false},
      TopologyReport{2, std::vector<uint32_t>{0, 1, 2}, std::vector<uint32_t>{0, 1, 2, 3}, {full_cpu, bare_cpu}},
      TopologyReport{2, std::nullopt, std::nullopt, {}},
      PowerOff{3},
      Heartbeat{4, 17.5},
      AgentError{5, "cgroup workload/a: cpuset.cpus: Invalid argument"},
      died,
      stopped,
      ScenarioStarted{7, "steady", 3, {1, 2, 3}, 3.25},
      StepEvent{8, 0, 5001, 5000, {"set_cpuset workload/a: EINVAL"}},
      StepEvent{8, 1, 6000, 6000, {}},
      full_report(),
      never_started(),
      payload_exited,
      payload_stopped,
      payload_never,
      ScenarioDone{11, 10012.4, {}},
      ScenarioDone{11, 0, {"plan .workers[0].name: missing"}},
  };
  for (const auto& event : events) {
    INFO(event_name(event));
    CHECK(round_trip(event) == event);
  }
}

TEST_CASE("the agent's lines carry event and seq first, then the fields") {
  const auto line = to_json(AgentEvent{Heartbeat{12, 1.5}}).dump();
  CHECK(line == R"({"event":"heartbeat","seq":12,"uptime_s":1.5})");
}

TEST_CASE("payload events the guest could forge are refused, naming the field") {
  auto refused = [](const std::string& line) {
    INFO(line);
    auto parsed = parse_agent_line(line);
    REQUIRE(std::holds_alternative<ProtocolError>(parsed));
    return std::get<ProtocolError>(parsed).message;
  };
  const std::string head = R"({"event":"payload","seq":1,"id":0,"name":"p","started_ms":0,"ended_ms":5,)";
  CHECK_THAT(refused(head + R"("exit_code":256,"stopped":false})"), Catch::Contains("exit_code"));
  CHECK_THAT(refused(head + R"("signal":0,"stopped":false})"), Catch::Contains("signal 0"));
  CHECK_THAT(refused(head + R"("exit_code":1,"signal":9,"stopped":false})"), Catch::Contains("both"));
  CHECK_THAT(refused(head + R"("stopped":false})"), Catch::Contains("neither"));
  CHECK_THAT(refused(head + R"("exit_code":0,"stopped":"no"})"), Catch::Contains("stopped"));
  CHECK_THAT(refused(head + R"("exit_code":0,"stopped":false,"output":[1]})"), Catch::Contains("output"));
  CHECK_THAT(refused(R"({"event":"payload","seq":1,"id":0,"name":"p","started_ms":-1,"ended_ms":5,"exit_code":0,"stopped":false})"),
             Catch::Contains("started_ms"));
}
