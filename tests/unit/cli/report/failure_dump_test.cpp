// The failure dump: which snapshot it is, what dump.json holds and what the BUG SUMMARY says.
#include <catch2/catch.hpp>

#include "apps/cli/report/failure_dump.hpp"

using namespace ktstr;
using namespace ktstr::cli;

TEST_CASE("failure dump: the scheduler error's snapshot, its exit message, symbolized rips and runqueues") {
  std::vector<msg::snapshot> snaps(2);
  snaps[0].trigger = "periodic";
  snaps[1].trigger = "scheduler error ERROR_STALL";
  snaps[1].at_s = 12.6;
  snaps[1].latency_s = 0.004;
  snaps[1].vcpus.push_back({1, 0, {}});  // freeze 1, vCPU 0
  snaps[1].vcpus[0].registers.rip = 0xffffffff81001234ull;
  snaps[1].guest.ok = true;
  snaps[1].guest.scx.jiffies = {1000, true};
  guest_kernel::CpuSample cpu;
  cpu.cpu = 0;
  cpu.nr_running = {2, true};
  cpu.curr = {true, 7, "kworker/0:1", 0};
  cpu.runnable.push_back({1, "init", 400});
  snaps[1].guest.cpus.push_back(cpu);
  REQUIRE(failure_snapshot(snaps) == &snaps[1]);
  CHECK(failure_snapshot({snaps[0]}) == nullptr);

  msg::monitor_report monitor;
  monitor.available = true;
  msg::scx_exit_event e;
  e.at_s = 12.55;
  e.to = 1026;
  e.via = "poll";
  e.info = {true, "", 1026, 0, "runnable task stall", "init[1] failed to run for 7.552s", {0xffffffff81002000ull}};
  monitor.exit_events.push_back(e);
  BacktraceNamer name = [](uint64_t a) { return a == 0xffffffff81001234ull ? "scx_watchdog_workfn+0x1c" : "f"; };

  auto j = failure_dump_json(snaps[1], &monitor, name);
  CHECK(j["trigger"] == "scheduler error ERROR_STALL");
  CHECK(j["exit"]["info"]["msg"] == "init[1] failed to run for 7.552s");
  CHECK(j["exit"]["info"]["backtrace"][0] == "0xffffffff81002000 f");
  CHECK(j["vcpus"][0]["rip_symbol"] == "scx_watchdog_workfn+0x1c");
  CHECK(j["guest"]["cpus"][0]["runnable"][0]["wait_jiffies"] == 600);

  auto lines = bug_summary(snaps[1], &monitor, name);
  REQUIRE(lines.size() >= 5);
  CHECK(lines[0] == "=== BUG SUMMARY ===");
  CHECK(lines[1] == "scheduler error ERROR_STALL at 12.55 s: runnable task stall (init[1] failed to run for 7.552s)");
  CHECK(lines[3] == "  the exit kind change was seen by poll (the writer is not known)");
  CHECK_THAT(lines[4], Catch::Contains("every vCPU frozen at 12.60 s in 4.0 ms"));
  CHECK(lines[5] == "  vCPU 0: rip 0xffffffff81001234 (scx_watchdog_workfn+0x1c)");
  CHECK(lines[6] == "  CPU 0: nr_running 2, running kworker/0:1[7]; runnable: init[1] waiting 600 jiffies");
  CHECK(j["exit"]["vcpu"].is_null());
  CHECK(j["exit"]["rip"].is_null());

  // Caught by slot 0's hardware watchpoint: the writer is named.
  monitor.exit_events[0].via = "watchpoint";
  monitor.exit_events[0].vcpu = 1;
  monitor.exit_events[0].rip = 0xffffffff81001234ull;
  j = failure_dump_json(snaps[1], &monitor, name);
  CHECK(j["exit"]["via"] == "watchpoint");
  CHECK(j["exit"]["vcpu"] == 1);
  CHECK(j["exit"]["rip"] == "0xffffffff81001234");
  CHECK(j["exit"]["rip_symbol"] == "scx_watchdog_workfn+0x1c");
  lines = bug_summary(snaps[1], &monitor, name);
  CHECK(lines[3] == "  the exit kind was written by vCPU 1 at 0xffffffff81001234 (scx_watchdog_workfn+0x1c) (slot 0 "
                    "hardware watchpoint)");
}
