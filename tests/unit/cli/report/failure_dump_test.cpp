// The failure dump: which snapshot it is, what dump.json holds and what the BUG SUMMARY says.
#include <catch2/catch.hpp>

#include <algorithm>

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
  CHECK(j["exit"]["after_teardown"] == false);

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

  // The usual hardware sequence: the claim froze (its message not written yet), the
  // teardown's -> DONE tells the message. Where and by whom: the claim; what: the teardown.
  monitor.exit_events[0].info = {};
  monitor.exit_events[0].froze = true;
  msg::scx_exit_event done = e;
  done.at_s = 12.58;
  done.from = 1026;
  done.to = 1;
  done.via = "watchpoint";
  done.vcpu = 0;
  done.rip = 0xffffffff81009999ull;
  monitor.exit_events.push_back(done);
  j = failure_dump_json(snaps[1], &monitor, name);
  CHECK(j["exit"]["to"] == "ERROR_STALL");
  CHECK(j["exit"]["vcpu"] == 1);
  CHECK(j["exit"]["rip"] == "0xffffffff81001234");
  CHECK(j["exit"]["info"]["msg"] == "init[1] failed to run for 7.552s");
  CHECK(j["exit"]["after_teardown"] == false);
  // Polling that saw the kind first at DONE: the snapshot came after the teardown, and says so.
  monitor.exit_events.erase(monitor.exit_events.begin());
  monitor.exit_events[0].froze = true;
  monitor.exit_events[0].via = "poll";
  monitor.exit_events[0].vcpu = -1;
  monitor.exit_events[0].rip = 0;
  j = failure_dump_json(snaps[1], &monitor, name);
  CHECK(j["exit"]["to"] == "DONE");
  CHECK(j["exit"]["after_teardown"] == true);
  lines = bug_summary(snaps[1], &monitor, name);
  CHECK_THAT(lines[4], Catch::StartsWith("  taken after the scheduler's teardown"));
}

TEST_CASE("failure dump: the scheduler's BPF maps in dump.json (caps stated) and a short BPF section in the summary") {
  msg::snapshot snap;
  snap.trigger = "scheduler error ERROR_BPF";
  snap.guest.ok = true;
  auto& bpf = snap.guest.bpf;
  bpf.ok = true;
  bpf.maps_seen = 3;
  bpf.problems.push_back("map_idr entry 0x123400000000 is not a kernel address: skipped");
  guest_kernel::BpfMap bss;
  bss.id = 3;
  bss.name = "scx_qmap.bss";
  bss.type = 2;
  bss.type_name = "array";
  bss.key_size = 4;
  bss.value_size = 40;
  bss.max_entries = 1;
  bss.btf = true;
  bss.entries_walked = true;
  bss.entries.push_back({"0", {{"nr_enqueued", "12"}, {"nr_dispatched", "10"}, {"comm", "\"qmap\""}}, false});
  bpf.maps.push_back(bss);
  guest_kernel::BpfMap hash;
  hash.id = 5;
  hash.name = "task_ctx_stor";
  hash.type = 1;
  hash.type_name = "hash";
  hash.key_size = 4;
  hash.value_size = 16;
  hash.max_entries = 1024;
  hash.entries_walked = true;
  hash.entries.push_back({"1001", {{"weight", "100"}}, false});
  hash.entries.push_back({"7", {{"", "0x2a000000"}}, false});
  bpf.maps.push_back(hash);
  guest_kernel::BpfMap ring;
  ring.id = 6;
  ring.name = "events";
  ring.type = 27;
  ring.type_name = "ringbuf";
  ring.max_entries = 4096;
  ring.entries_note = "metadata only: entries of a ringbuf map are not read";
  bpf.maps.push_back(ring);

  const auto j = failure_dump_json(snap, nullptr, {});
  const auto& b = j["bpf_maps"];
  CHECK(b["available"] == true);
  CHECK(b["caps"]["maps"] == guest_kernel::kBpfMaxMaps);
  CHECK(b["caps"]["entries_per_map"] == guest_kernel::kBpfMaxEntries);
  CHECK(b["caps"]["btf_bytes_per_map"] == guest_kernel::kBpfMaxBtfBytes);
  CHECK(b["maps_seen"] == 3);
  CHECK(b["maps_truncated"] == false);
  CHECK(b["problems"][0] == "map_idr entry 0x123400000000 is not a kernel address: skipped");
  REQUIRE(b["maps"].size() == 3);
  CHECK(b["maps"][0]["name"] == "scx_qmap.bss");
  CHECK(b["maps"][0]["type"] == "array");
  CHECK(b["maps"][0]["btf"] == true);
  CHECK(b["maps"][0]["entries"][0]["key"] == "0");
  CHECK(b["maps"][0]["entries"][0]["value"]["nr_enqueued"] == "12");
  CHECK(b["maps"][0]["entries"][0]["value"]["comm"] == "\"qmap\"");
  CHECK(b["maps"][1]["entries"][0]["value"]["weight"] == "100");
  CHECK(b["maps"][1]["entries"][1]["value"] == "0x2a000000");  // a scalar value without BTF: the bytes
  CHECK(b["maps"][2]["entries_walked"] == false);
  CHECK(b["maps"][2]["entries_note"] == "metadata only: entries of a ringbuf map are not read");
  CHECK(b["maps"][2]["btf_note"].is_null());

  const auto lines = bug_summary(snap, nullptr, {});
  auto at = std::find(lines.begin(), lines.end(), "BPF maps: 3 in map_idr");
  REQUIRE(at != lines.end());
  CHECK(*(at + 1) == "  scx_qmap.bss array key/value 4/40 max 1: nr_enqueued=12 nr_dispatched=10 comm=\"qmap\"");
  CHECK(*(at + 2) == "  task_ctx_stor hash key/value 4/16 max 1024");
  CHECK(*(at + 3) == "  events ringbuf key/value 0/0 max 4096");
  CHECK(*(at + 4) == "  unreadable: map_idr entry 0x123400000000 is not a kernel address: skipped");

  // No map_idr: said once, in both.
  snap.guest.bpf = {};
  snap.guest.bpf.unavailable = "no map_idr in this kernel's symbols";
  CHECK(failure_dump_json(snap, nullptr, {})["bpf_maps"]["unavailable"] == "no map_idr in this kernel's symbols");
  const auto without = bug_summary(snap, nullptr, {});
  CHECK(std::find(without.begin(), without.end(), "BPF maps: no map_idr in this kernel's symbols") != without.end());
}
