// result.json's vm_end and perf from the typed run result: the same text and layout as
// when run_finished carried strings (how) and a JSON string (perf).
#include <catch2/catch.hpp>

#include <string>

#include "apps/cli/report/perf_json.hpp"
#include "apps/cli/report/run_report.hpp"

using namespace ktstr;

namespace {

nlohmann::json report_for(const msg::run_finished& fin) {
  cli::RunObservation obs;
  obs.finished = fin;
  const kvm::Topology declared(kvm::TopologySpec{});
  return cli::make_run_report(cli::RunOptions{}, "bzImage", declared, obs, {"console.log", "agent.log"}).json;
}

// The layout perf_timeline_json wrote before the report was typed, byte for byte.
msg::perf_report sample_report() {
  msg::perf_report r;
  r.period_ms = 100;
  for (uint32_t v : {0u, 1u}) {
    msg::perf_vcpu_timeline t;
    t.vcpu = v;
    t.tid = 1000 + static_cast<int32_t>(v);
    t.started_at_s = 0.25 * v;
    t.counters = {{"task-clock", false}, {"cycles", true}};
    t.unavailable = {{"instructions", "no PMU"}};
    if (v == 1) {
      t.unavailable.push_back({"cache-misses", "ENOENT"});
      t.exited_at_s = 3.5;
      t.exit_watch_problem = "pidfd: EPERM";
      t.samples_dropped = 4;
    }
    t.multiplexed = {"cycles", "task-clock"};
    t.samples.push_back({0.1, v, {{"task-clock", 123456789012ull}, {"cycles", 0}}});
    t.samples.push_back({0.2000000001, v, {{"task-clock", 5}}});
    r.vcpus.push_back(std::move(t));
  }
  msg::perf_vcpu_timeline empty;
  empty.vcpu = 5;
  empty.tid = -1;
  r.vcpus.push_back(empty);
  return r;
}

constexpr const char* kSampleJson =
    R"({"period_ms":100,"unavailable":[{"name":"cache-misses","reason":"ENOENT","vcpus":[1]},)"
    R"({"name":"instructions","reason":"no PMU","vcpus":[0,1]}],"vcpus":[{"counters":[{"guest_only":false,)"
    R"("name":"task-clock"},{"guest_only":true,"name":"cycles"}],"exit_watch":null,"exited_at_s":null,)"
    R"("multiplexed":["cycles","task-clock"],"samples":[{"at_s":0.1,"deltas":{"cycles":0,"task-clock":123456789012}},)"
    R"({"at_s":0.2000000001,"deltas":{"task-clock":5}}],"samples_dropped":0,"started_at_s":0.0,"tid":1000,)"
    R"("unavailable":[{"name":"instructions","reason":"no PMU"}],"vcpu":0},{"counters":[{"guest_only":false,)"
    R"("name":"task-clock"},{"guest_only":true,"name":"cycles"}],"exit_watch":"pidfd: EPERM","exited_at_s":3.5,)"
    R"("multiplexed":["cycles","task-clock"],"samples":[{"at_s":0.1,"deltas":{"cycles":0,"task-clock":123456789012}},)"
    R"({"at_s":0.2000000001,"deltas":{"task-clock":5}}],"samples_dropped":4,"started_at_s":0.25,"tid":1001,)"
    R"("unavailable":[{"name":"instructions","reason":"no PMU"},{"name":"cache-misses","reason":"ENOENT"}],"vcpu":1},)"
    R"({"counters":[],"exit_watch":null,"exited_at_s":null,"multiplexed":[],"samples":[],"samples_dropped":0,)"
    R"("started_at_s":0.0,"tid":-1,"unavailable":[],"vcpu":5}]})";

}  // namespace

TEST_CASE("run report: the perf report's JSON keeps its layout, byte for byte") {
  CHECK(cli::perf_json(sample_report()).dump() == kSampleJson);
}

TEST_CASE("run report: perf is null without a report and the report's JSON with one") {
  msg::run_finished fin;
  fin.how = msg::run_end::power_off;
  CHECK(report_for(fin)["perf"].is_null());
  fin.perf = sample_report();
  CHECK(report_for(fin)["perf"].dump() == kSampleJson);
}

TEST_CASE("run report: vm_end.how is the end's name, and the verdict follows it") {
  msg::run_finished fin;
  fin.how = msg::run_end::hang;
  fin.detail = "no guest output or heartbeat for 30.0 s";
  auto j = report_for(fin);
  CHECK(j["vm_end"]["how"] == "hang");
  CHECK(j["vm_end"]["detail"] == fin.detail);
  CHECK(j["verdict"] == "fail");
  CHECK(j["reasons"][0] == "the guest hung: no guest output or heartbeat for 30.0 s");

  fin.how = msg::run_end::vcpu_failed;
  j = report_for(fin);
  CHECK(j["vm_end"]["how"] == "vcpu-failed");
  CHECK(j["verdict"] == "error");

  fin.how = msg::run_end::no_kvm;
  CHECK(report_for(fin)["vm_end"]["how"] == "no-kvm");

  fin.how = msg::run_end::timeout;  // no agent: the missing agent is named, with the end's text
  fin.detail = "run deadline of 60 s passed (+10 s grace)";
  j = report_for(fin);
  CHECK(j["vm_end"]["how"] == "timeout");
  CHECK(j["reasons"][0] == "the guest never reached the agent (timeout: run deadline of 60 s passed (+10 s grace))");
}
