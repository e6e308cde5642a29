// The monitor's timeline in result.json and the human summary: unreadable values are
// null (never 0), fields the kernel lacks are listed with their reason.
#include <catch2/catch.hpp>

#include "apps/cli/report/monitor_json.hpp"
#include "kvm/guest_kernel/scx_names.hpp"

using namespace ktstr;
using namespace ktstr::cli;

TEST_CASE("monitor JSON: values read are numbers, unreadable ones null, waits signed across the jiffies wrap") {
  msg::monitor_report r;
  r.available = true;
  r.period_ms = 100;
  r.release = "6.12.117-scx";
  r.slide = 0x2a000000;
  r.located_at_s = 3.5;
  r.fields_unavailable.push_back({"scx_nr_running", "rq.scx: not in this kernel's BTF"});
  msg::monitor_sample s;
  s.at_s = 4;
  s.scx.jiffies = {5, true};  // just past the 2^64 wrap
  s.scx.enable_state = {1, true};
  s.scx.ops_name_ok = true;
  s.scx.ops_name = "simple";
  guest_kernel::CpuSample c;
  c.cpu = 1;
  c.nr_running = {2, true};
  c.curr = {true, 42, "spin", 0};
  c.runnable_ok = true;
  c.runnable.push_back({43, "waiter", ~uint64_t(0) - 4});  // runnable 10 jiffies ago
  s.cpus.push_back(c);
  s.vcpu_run_ns = {0, 2'000'000};
  r.samples.push_back(s);
  r.sampling_s = 0.002;

  auto j = monitor_json(r);
  CHECK(j["available"] == true);
  CHECK(j["kernel"]["kaslr_slide"] == "0x2a000000");
  CHECK(j["unavailable_fields"][0]["field"] == "scx_nr_running");
  const auto& cpu = j["samples"][0]["cpus"][0];
  CHECK(cpu["nr_running"] == 2);
  CHECK(cpu["scx_nr_running"].is_null());
  CHECK(cpu["clock_ns"].is_null());
  CHECK(cpu["curr"]["comm"] == "spin");
  CHECK(cpu["runnable"][0]["wait_jiffies"] == 10);
  CHECK(j["samples"][0]["sched_ext"]["enable_state"] == "ENABLED");
  CHECK(j["samples"][0]["sched_ext"]["ops"] == "simple");
  CHECK(j["samples"][0]["vcpu_run_ms"][0].is_null());
  CHECK(j["samples"][0]["vcpu_run_ms"][1] == 2.0);

  auto lines = monitor_summary(r);
  REQUIRE(lines.size() >= 3);
  CHECK_THAT(lines[0], Catch::StartsWith("monitor: 1 sample(s) every 100 ms from 3.5 s"));
  CHECK_THAT(lines[1], Catch::Contains("CPU 1: nr_running mean 2.0 max 2"));
  CHECK_THAT(lines[1], Catch::Contains("running most: spin[42] (100%)"));
  CHECK_THAT(lines.back(), Catch::Contains("unavailable: scx_nr_running (rq.scx: not in this kernel's BTF)"));
}

TEST_CASE("monitor JSON: an unavailable monitor says why, in JSON and in one summary line") {
  msg::monitor_report r;
  r.unavailable = "monitor unavailable: the guest's banner names 6.1.0 but the image is 6.12.117";
  auto j = monitor_json(r);
  CHECK(j["available"] == false);
  CHECK(j["unavailable"] == r.unavailable);
  CHECK(j["samples"].empty());
  CHECK(monitor_summary(r) == std::vector<std::string>{r.unavailable});
  CHECK(guest_kernel::exit_kind_name(1026) == "ERROR_STALL");
  CHECK(guest_kernel::exit_kind_name(7) == "7");
  CHECK(guest_kernel::enable_state_name(3) == "DISABLED");
}
