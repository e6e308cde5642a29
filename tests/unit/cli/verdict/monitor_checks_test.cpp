// The checks over the monitor's timeline, on crafted timelines: each names CPU, task and
// time when it fails, passes with its figures, and skips saying why when it cannot judge.
#include <catch2/catch.hpp>

#include "apps/cli/verdict/monitor_checks.hpp"

using namespace ktstr;
using namespace ktstr::cli;

namespace {

constexpr uint64_t kHz = 250;

guest_kernel::Reading ok(uint64_t v) { return {v, true}; }

/// `seconds` of samples every 100 ms on `cpus` CPUs; jiffies advance at 250 Hz from
/// 0xFFFEDB08 (INITIAL_JIFFIES: they wrap through 2^32 on the way), watchdog 30 s.
msg::monitor_report timeline(double seconds, uint32_t cpus) {
  msg::monitor_report r;
  r.available = true;
  r.period_ms = 100;
  for (int i = 0; i * 0.1 <= seconds + 1e-9; ++i) {
    msg::monitor_sample s;
    s.at_s = 1.0 + i / 10.0;  // exact tenths: the durations below compare exactly
    s.scx.jiffies = ok(0xFFFFFFF0ull + uint64_t(i) * kHz / 10);
    s.scx.watchdog_timeout = ok(30 * kHz);
    s.scx.enable_state = ok(1);
    for (uint32_t c = 0; c < cpus; ++c) {
      guest_kernel::CpuSample cpu;
      cpu.cpu = c;
      cpu.nr_running = ok(1);
      cpu.clock = ok(1'000'000'000ull * (i + 1));
      cpu.curr = {true, int32_t(100 + c), "w" + std::to_string(c), 0};
      cpu.runnable_ok = true;
      s.cpus.push_back(cpu);
      s.vcpu_run_ns.push_back(uint64_t(i) * 100'000'000 + 1);  // busy the whole interval
    }
    r.samples.push_back(std::move(s));
  }
  return r;
}

const Finding* failing(const std::vector<Finding>& findings) {
  for (const auto& f : findings)
    if (f.verdict == Verdict::fail) return &f;
  return nullptr;
}

}  // namespace

TEST_CASE("monitor checks: HZ is estimated from jiffies against host time, across the 2^32 wrap") {
  auto r = timeline(5, 1);
  CHECK(estimate_hz(r) == 250u);
  r.samples.resize(3);  // 0.2 s: too short to tell
  CHECK_FALSE(estimate_hz(r).has_value());
}

TEST_CASE("monitor checks: a sched_ext task waiting past half the watchdog timeout is a predicted stall naming "
          "pid, comm, CPU and time") {
  auto r = timeline(20, 2);
  // pid 123 becomes runnable on CPU 1 at sample 0 and never runs: its wait grows with jiffies.
  const uint64_t since = r.samples[0].scx.jiffies.value;
  for (auto& s : r.samples) s.cpus[1].runnable.push_back({123, "worker", since});
  AssertionThresholds t;
  auto findings = check_predicted_stall(r, t);
  const Finding* f = failing(findings);
  REQUIRE(f);
  INFO(f->message);
  CHECK(f->cpu == 1u);
  // Named when it first crossed half of 30 s (15.1 s of waiting, at 16.1 s), with its longest wait.
  CHECK_THAT(f->message, Catch::StartsWith("predicted stall: pid 123 `worker` waiting 15.1 s of 30 s on CPU 1 at 16.1 s "
                                           "(longest wait seen 20.0 s)"));
  // At 70% the same wait (20 s of 30 s = 67%) is within bounds.
  t.predicted_stall_pct = 70;
  findings = check_predicted_stall(r, t);
  CHECK_FALSE(failing(findings));
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].verdict == Verdict::pass);
  CHECK_THAT(findings[0].message, Catch::Contains("longest 20.00 s"));
}

TEST_CASE("monitor checks: no watchdog timeout (no sched_ext scheduler), no monitor, or an unavailable one: skip "
          "with the reason") {
  auto r = timeline(5, 1);
  for (auto& s : r.samples) s.scx.watchdog_timeout = {};
  AssertionThresholds t;
  auto findings = check_predicted_stall(r, t);
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].verdict == Verdict::skip);
  CHECK_THAT(findings[0].message, Catch::Contains("no sched_ext scheduler"));

  findings = check_rq_clock(std::nullopt, t);
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].verdict == Verdict::skip);
  CHECK_THAT(findings[0].message, Catch::Contains("--monitor-period 0"));

  msg::monitor_report gone;
  gone.unavailable = "monitor unavailable: no BTF in this kernel";
  findings = check_predicted_stall(gone, t);
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].verdict == Verdict::skip);
  CHECK(findings[0].message == gone.unavailable);
}

TEST_CASE("monitor checks: an rq clock standing still while its vCPU runs guest code fails - while it sits halted "
          "it does not") {
  auto r = timeline(5, 2);
  // CPU 0's clock stops from sample 10 (2.0 s) on.
  for (size_t i = 10; i < r.samples.size(); ++i) r.samples[i].cpus[0].clock = r.samples[10].cpus[0].clock;
  AssertionThresholds t;
  auto findings = check_rq_clock(r, t);
  const Finding* f = failing(findings);
  REQUIRE(f);
  INFO(f->message);
  CHECK(f->cpu == 0u);
  CHECK_THAT(f->message, Catch::StartsWith("CPU 0: rq clock stood still for "));
  CHECK_THAT(f->message, Catch::Contains("from 2.0 s"));
  CHECK_THAT(f->message, Catch::Contains("pid 100 `w0`"));

  // The same clock while the vCPU thread did not run (a halted, idle CPU): no finding.
  for (size_t i = 10; i < r.samples.size(); ++i) r.samples[i].vcpu_run_ns[0] = r.samples[10].vcpu_run_ns[0];
  findings = check_rq_clock(r, t);
  CHECK_FALSE(failing(findings));
  // And a stop shorter than the limit is within bounds.
  t.rq_clock_stuck_ms = 5000;
  auto r2 = timeline(5, 1);
  for (size_t i = 10; i < 20; ++i) r2.samples[i].cpus[0].clock = r2.samples[10].cpus[0].clock;
  CHECK_FALSE(failing(check_rq_clock(r2, t)));
}

TEST_CASE("monitor checks: imbalance is judged only when asked for, and names the busy and the idle CPU") {
  auto r = timeline(5, 2);
  for (size_t i = 5; i < r.samples.size(); ++i) {
    r.samples[i].cpus[0].nr_running = ok(3);
    r.samples[i].cpus[1].nr_running = ok(0);
  }
  AssertionThresholds t;
  auto findings = check_imbalance(r, t);
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].verdict == Verdict::skip);
  t.imbalance_ms = 1000;
  findings = check_imbalance(r, t);
  const Finding* f = failing(findings);
  REQUIRE(f);
  CHECK_THAT(f->message, Catch::StartsWith("imbalance: CPU 0 had 3 runnable tasks while CPU 1 sat idle, for 1.0 s "
                                           "from 1.5 s"));
  t.imbalance_ms = 10000;
  findings = check_imbalance(r, t);
  CHECK_FALSE(failing(findings));
  CHECK(findings[0].verdict == Verdict::pass);
}

TEST_CASE("monitor checks: a scheduler error in guest memory fails the scheduler check with the kernel's reason "
          "and message") {
  auto r = timeline(2, 1);
  CHECK(check_scheduler_exit(r).empty());  // no error seen: nothing to add
  msg::scx_exit_event attach;
  attach.at_s = 1.5;
  attach.from = 1;
  attach.to = 0;
  msg::scx_exit_event error;
  error.at_s = 2.25;
  error.from = 0;
  error.to = 1026;
  error.info.ok = true;
  error.info.kind = 1026;
  error.info.reason = "runnable task stall";
  error.info.msg = "kworker/1:2[57] failed to run for 30.4s";
  r.exit_events = {attach, error};
  auto findings = check_scheduler_exit(r);
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].check == CheckKind::scheduler);
  CHECK(findings[0].verdict == Verdict::fail);
  CHECK(findings[0].message ==
        "scheduler error ERROR_STALL: runnable task stall (kworker/1:2[57] failed to run for 30.4s) at 2.2 s "
        "(read from guest memory)");
  // A teardown that shows an error claimed between two polls counts too.
  msg::scx_exit_event teardown;
  teardown.at_s = 3;
  teardown.from = 0;
  teardown.to = 1;
  teardown.info = error.info;
  teardown.info.kind = 1025;
  teardown.info.reason = "scx_bpf_error";
  teardown.info.msg = "boom";
  r.exit_events = {attach, teardown};
  findings = check_scheduler_exit(r);
  REQUIRE(findings.size() == 1);
  CHECK_THAT(findings[0].message, Catch::StartsWith("scheduler error ERROR_BPF: scx_bpf_error (boom)"));
}

TEST_CASE("monitor checks: the release read from guest memory must be the one the guest agent reports") {
  auto r = timeline(2, 1);
  r.release = "6.12.117";
  CHECK(confirm_release(r, "6.12.117"));
  CHECK(r.available);
  CHECK_FALSE(r.samples.empty());
  CHECK_FALSE(confirm_release(r, "6.1.0-57-amd64"));
  CHECK_FALSE(r.available);
  CHECK(r.samples.empty());
  CHECK(r.unavailable ==
        "monitor unavailable: it read kernel 6.12.117 in guest memory but the guest agent reports 6.1.0-57-amd64");
  AssertionThresholds t;
  auto findings = check_rq_clock(r, t);
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].verdict == Verdict::skip);
}
