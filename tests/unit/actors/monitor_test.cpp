// The monitor actor without a live guest: it asks vCPU 0 (a stand-in actor) for its
// registers until the kernel has set MSR_LSTAR, gives up with the reason after its
// window, and without a kernel layout reports the layout's reason and samples nothing.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>

#include "actors/monitor.hpp"
#include "actors/runtime_config.hpp"
#include "tests/support/stand_in_vcpu.hpp"
#include "tests/support/synthetic_kernel.hpp"

using namespace ktstr;
using namespace std::chrono_literals;

namespace {

/// vCPU 0's stand-in: says vcpu_started to the monitor, then answers every query with
/// an LSTAR of 0 (a kernel still booting), counting the queries.
caf::behavior booting_bsp(caf::event_based_actor* self, std::shared_ptr<std::atomic<int>> queries) {
  return {
      [=](actors::monitor_actor_t monitor) { self->send(monitor, msg::vcpu_started{0, 4242}); },
      [=](msg::cpu_state_query& q) {
        ++*queries;
        msg::cpu_state s;
        s.id = q.id;
        s.ok = true;
        s.lstar = 0;
        self->send(caf::actor_cast<caf::actor>(self->current_sender()), s);
      },
  };
}

/// vCPU 0's stand-in on a booted (synthetic) kernel: answers with its LSTAR, CR3, CR4, and
/// takes the watchpoints it is given.
using test::debugging_bsp;
using test::DebugLog;

caf::behavior booted_bsp(caf::event_based_actor* self, guest_kernel::LocateInput regs) {
  return debugging_bsp(self, regs, std::make_shared<DebugLog>(), std::string());
}

struct Fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<caf::scoped_actor> probe;
  Fixture() {
    actors::configure_runtime(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    probe = std::make_unique<caf::scoped_actor>(*sys);
  }
  msg::monitor_report report_of(const actors::monitor_actor_t& monitor) {
    msg::monitor_report out;
    (*probe)->request(monitor, 5s, msg::monitor_report_atom::value)
        .receive([&](msg::monitor_report& r) { out = std::move(r); }, [&](caf::error& e) { FAIL("no report: " << caf::to_string(e)); });
    return out;
  }
};

/// A monitor of `kernel` (its layout, RAM, and `vcpus` vCPUs, all of them when 0), sampling
/// every `period` and looking at the exit kind every `exit_poll`.
actors::MonitorConfig config_for(const guest_kernel::testing::SyntheticKernel& kernel, std::chrono::milliseconds period,
                                 std::chrono::milliseconds exit_poll = 10ms, uint32_t vcpus = 0) {
  actors::MonitorConfig mc;
  mc.layout = kernel.layout;
  mc.memory = kernel.ram;
  mc.vcpus = vcpus ? vcpus : kernel.options.cpus;
  mc.period = period;
  mc.exit_poll = exit_poll;
  mc.view = std::make_shared<actors::GuestView>();
  return mc;
}

}  // namespace

TEST_CASE("monitor: without a kernel layout it reports the layout's reason and samples nothing") {
  Fixture f;
  actors::MonitorConfig mc;
  mc.unavailable = "monitor unavailable: kernel has no .BTF section";
  mc.vcpus = 2;
  mc.view = std::make_shared<actors::GuestView>();
  auto monitor = f.sys->spawn(actors::monitor_actor, mc);
  auto r = f.report_of(monitor);
  CHECK_FALSE(r.available);
  CHECK(r.unavailable == mc.unavailable);
  CHECK(r.samples.empty());
  // A freeze then says the same.
  CHECK(mc.view->read().unavailable == mc.unavailable);
  caf::anon_send_exit(monitor, caf::exit_reason::user_shutdown);
}

TEST_CASE("monitor: it keeps asking vCPU 0 while the kernel has not set LSTAR, then gives up saying so") {
  Fixture f;
  auto queries = std::make_shared<std::atomic<int>>(0);
  actors::MonitorConfig mc;
  mc.layout = guest_kernel::KernelLayout{};
  mc.vcpus = 1;
  mc.period = 50ms;
  mc.locate_window = std::chrono::seconds(1);
  mc.view = std::make_shared<actors::GuestView>();
  std::atomic<int> kicks{0};
  mc.kick = [&kicks](uint32_t vcpu) { kicks += vcpu == 0 ? 1 : 100; };
  auto monitor = f.sys->spawn(actors::monitor_actor, mc);
  auto bsp = f.sys->spawn(booting_bsp, queries);
  caf::anon_send(bsp, monitor);
  std::this_thread::sleep_for(1500ms);
  auto r = f.report_of(monitor);
  CHECK(*queries >= 2);        // asked more than once (every 50 ms, at most every 500 ms)
  CHECK(kicks >= *queries);    // each question came with a kick
  CHECK_FALSE(r.available);
  CHECK_THAT(r.unavailable, Catch::StartsWith("monitor unavailable: the guest kernel had not set MSR_LSTAR"));
  CHECK_THAT(r.unavailable, Catch::Contains("gave up after 1 s"));
  CHECK(r.samples.empty());
  caf::anon_send_exit(monitor, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(bsp, caf::exit_reason::user_shutdown);
}

TEST_CASE("monitor: it finds a kernel in guest memory from vCPU 0's LSTAR, samples every CPU, and shares the "
          "located kernel with freezes") {
  Fixture f;
  guest_kernel::testing::SyntheticKernel kernel;
  const auto program = guest_kernel::testing::scheduler_btf();
  std::vector<uint8_t> bss(40, 0);
  bss[0] = 77;  // nr_enqueued
  kernel.set_map_idr({0, kernel.add_array_map(1, "sched.bss", 2, 40, 1, kernel.add_btf(program.raw), program.bss, {bss})});
  auto mc = config_for(kernel, 20ms);
  auto monitor = f.sys->spawn(actors::monitor_actor, mc);
  auto bsp = f.sys->spawn(booted_bsp, kernel.input());
  caf::anon_send(bsp, monitor);
  std::this_thread::sleep_for(400ms);
  auto r = f.report_of(monitor);
  INFO(r.unavailable);
  REQUIRE(r.available);
  CHECK(r.slide == int64_t(kernel.options.slide));
  CHECK(r.release == kernel.options.release);
  CHECK_THAT(r.banner, Catch::StartsWith("Linux version " + kernel.options.release + " "));
  REQUIRE(r.samples.size() >= 3);
  for (const auto& s : r.samples) {
    REQUIRE(s.cpus.size() == kernel.options.cpus);
    for (uint32_t c = 0; c < kernel.options.cpus; ++c) {
      CHECK(s.cpus[c].cpu == c);
      CHECK(s.cpus[c].nr_running.ok);
    }
    CHECK(s.vcpu_run_ns.size() == kernel.options.cpus);
  }
  auto frozen = mc.view->read();
  CHECK(frozen.ok);
  CHECK(frozen.cpus.size() == kernel.options.cpus);
  // A freeze also reads the BPF maps (the periodic samples do not).
  REQUIRE(frozen.bpf.ok);
  REQUIRE(frozen.bpf.maps.size() == 1);
  CHECK(frozen.bpf.maps[0].name == "sched.bss");
  REQUIRE(frozen.bpf.maps[0].entries.size() == 1);
  CHECK(frozen.bpf.maps[0].entries[0].value.at(0).name == "nr_enqueued");
  CHECK(frozen.bpf.maps[0].entries[0].value.at(0).value == "77");
  caf::anon_send_exit(monitor, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(bsp, caf::exit_reason::user_shutdown);
}

TEST_CASE("monitor: a guest whose banner does not name the image's release leaves the monitor unavailable with "
          "that reason, never sampling") {
  Fixture f;
  guest_kernel::testing::SyntheticKernel kernel;
  auto mc = config_for(kernel, 20ms);
  mc.layout->release = "6.1.0-57-amd64";  // the image the layout came from is not what booted
  auto monitor = f.sys->spawn(actors::monitor_actor, mc);
  auto bsp = f.sys->spawn(booted_bsp, kernel.input());
  caf::anon_send(bsp, monitor);
  std::this_thread::sleep_for(3500ms);  // five tries, one every 500 ms at most
  auto r = f.report_of(monitor);
  CHECK_FALSE(r.available);
  CHECK_THAT(r.unavailable, Catch::StartsWith("monitor unavailable: "));
  CHECK_THAT(r.unavailable, Catch::Contains("banner"));
  CHECK(r.samples.empty());
  CHECK_FALSE(mc.view->read().ok);
  caf::anon_send_exit(monitor, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(bsp, caf::exit_reason::user_shutdown);
}

TEST_CASE("monitor: an error exit kind seen by the poll is an event with the kernel's exit message and asks for "
          "one snapshot - attach and teardown are events without one") {
  Fixture f;
  guest_kernel::testing::SyntheticKernel kernel;
  // As at boot: no scheduler ever ran, the exit kind reads DONE.
  kernel.write_u32(kernel.image_va(kernel.layout.symbols.scx_exit_kind), 1);
  auto mc = config_for(kernel, 50ms, 5ms);
  mc.freezer = caf::actor_cast<actors::freeze_requester>(*f.probe);
  auto monitor = f.sys->spawn(actors::monitor_actor, mc);
  auto bsp = f.sys->spawn(booted_bsp, kernel.input());
  caf::anon_send(bsp, monitor);
  std::this_thread::sleep_for(300ms);
  const uint64_t exit_kind = kernel.image_va(kernel.layout.symbols.scx_exit_kind);
  kernel.write_u32(exit_kind, 0);  // a scheduler attaches
  std::this_thread::sleep_for(100ms);
  kernel.set_exit_info(1025, 0, "scx_bpf_error", "qmap: enqueue count reached 500", {0xffffffff81100000ull});
  kernel.write_u32(exit_kind, 1025);  // it errors
  std::vector<std::string> triggers;
  (*f.probe)->receive_while([&] { return triggers.empty(); })(
      [&](msg::freeze_request& r) { triggers.push_back(r.trigger); }, caf::after(2s) >> [&] { triggers.push_back("none"); });
  CHECK(triggers == std::vector<std::string>{"scheduler error ERROR_BPF"});
  kernel.write_u32(exit_kind, 1);  // teardown
  std::this_thread::sleep_for(100ms);
  auto r = f.report_of(monitor);
  CHECK(r.exit_poll_ms == 5);
  CHECK_THAT(r.exit_watch, Catch::Contains("polling the exit kind every 5 ms"));
  REQUIRE(r.exit_events.size() == 3);
  CHECK(r.exit_events[0].from == 1);
  CHECK(r.exit_events[0].to == 0);
  CHECK_FALSE(r.exit_events[0].froze);
  CHECK(r.exit_events[1].to == 1025);
  CHECK(r.exit_events[1].froze);
  CHECK(r.exit_events[1].info.msg == "qmap: enqueue count reached 500");
  CHECK(r.exit_events[2].to == 1);
  CHECK_FALSE(r.exit_events[2].froze);  // one snapshot per run's error
  bool extra = false;
  (*f.probe)->receive([&](msg::freeze_request&) { extra = true; }, caf::after(100ms) >> [] {});
  CHECK_FALSE(extra);
  caf::anon_send_exit(monitor, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(bsp, caf::exit_reason::user_shutdown);
}

TEST_CASE("monitor: a watched kernel word is polled: each change is an event with old and new value, and with "
          "freeze a snapshot request") {
  Fixture f;
  guest_kernel::testing::SyntheticKernel kernel;
  auto mc = config_for(kernel, 50ms, 5ms);
  mc.freezer = caf::actor_cast<actors::freeze_requester>(*f.probe);
  const uint64_t word = kernel.layout.symbols.jiffies_64;
  mc.watches.push_back({1, "jiffies_64,freeze", "jiffies_64", word, 8, true});
  auto monitor = f.sys->spawn(actors::monitor_actor, mc);
  auto bsp = f.sys->spawn(booted_bsp, kernel.input());
  caf::anon_send(bsp, monitor);
  std::this_thread::sleep_for(300ms);
  kernel.write_u64(kernel.image_va(word), 0x1'0000'2469ull);
  std::string trigger;
  (*f.probe)->receive([&](msg::freeze_request& r) { trigger = r.trigger; }, caf::after(2s) >> [] {});
  CHECK(trigger == "watch 1 jiffies_64");
  auto r = f.report_of(monitor);
  REQUIRE(r.watches.size() == 1);
  CHECK(r.watches[0].address == kernel.image_va(word));
  CHECK(r.watches[0].changes == 1);
  REQUIRE(r.watch_events.size() == 1);
  CHECK(r.watch_events[0].old_value == 0x1'0000'2468ull);
  CHECK(r.watch_events[0].new_value == 0x1'0000'2469ull);
  CHECK(r.watch_events[0].froze);
  caf::anon_send_exit(monitor, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(bsp, caf::exit_reason::user_shutdown);
}

namespace {

/// A one-vCPU monitor on a synthetic kernel whose exit kind starts at DONE, its vCPU 0 a
/// debugging_bsp; the exit kind's runtime address.
struct HardwareRun {
  Fixture f;
  guest_kernel::testing::SyntheticKernel kernel;
  actors::MonitorConfig mc;
  std::shared_ptr<DebugLog> log = std::make_shared<DebugLog>();
  actors::monitor_actor_t monitor;
  caf::actor bsp;
  uint64_t exit_kind = 0;

  explicit HardwareRun(std::chrono::milliseconds exit_poll, std::string refusal = {}, bool hardware = true) {
    exit_kind = kernel.image_va(kernel.layout.symbols.scx_exit_kind);
    kernel.write_u32(exit_kind, 1);
    mc = config_for(kernel, 50ms, exit_poll, 1);
    mc.watch_grace = 100ms;
    mc.hardware_watchpoints = hardware;
    mc.hardware_off_reason = "hardware watchpoints off (test)";
    mc.freezer = caf::actor_cast<actors::freeze_requester>(*f.probe);
    monitor = f.sys->spawn(actors::monitor_actor, mc);
    bsp = f.sys->spawn(debugging_bsp, kernel.input(), log, std::move(refusal));
    caf::anon_send(bsp, monitor);
  }
  ~HardwareRun() {
    caf::anon_send_exit(monitor, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(bsp, caf::exit_reason::user_shutdown);
  }
  std::string next_freeze(std::chrono::milliseconds within) {
    std::string trigger = "none";
    (*f.probe)->receive([&](msg::freeze_request& r) { trigger = r.trigger; }, caf::after(within) >> [] {});
    return trigger;
  }
};

}  // namespace

TEST_CASE("monitor: slot 0 is armed on the exit kind's address - a hit is the event at once, naming the writer's "
          "vCPU and rip, and an error hit asks for the snapshot before any poll could have seen it") {
  HardwareRun run(2000ms);  // the poll after the baseline comes 2 s later: only the hit can see the change
  std::this_thread::sleep_for(300ms);
  REQUIRE(run.log->arm_count() == 1);
  {
    std::lock_guard lock(run.log->mutex);
    CHECK(run.log->arms[0].slot == 0);
    CHECK(run.log->arms[0].address == run.exit_kind);
    CHECK(run.log->arms[0].length == 4);
    CHECK(run.log->arms[0].kind == msg::watch_kind::write);
  }
  run.kernel.set_exit_info(1025, 0, "scx_bpf_error", "qmap: enqueue count reached 500", {0xffffffff81100000ull});
  run.kernel.write_u32(run.exit_kind, 1025);
  caf::anon_send(run.monitor, msg::watchpoint_hit{0, 0, run.exit_kind, 0xffffffff81234567ull, 0x1, 0.31});
  CHECK(run.next_freeze(1s) == "scheduler error ERROR_BPF");
  auto r = run.f.report_of(run.monitor);
  REQUIRE(r.exit_events.size() == 1);
  CHECK(r.exit_events[0].via == "watchpoint");
  CHECK(r.exit_events[0].vcpu == 0);
  CHECK(r.exit_events[0].rip == 0xffffffff81234567ull);
  CHECK(r.exit_events[0].at_s == Approx(0.31));
  CHECK(r.exit_events[0].info.msg == "qmap: enqueue count reached 500");
  CHECK(r.exit_events[0].froze);
  CHECK(r.watch_path == "hardware");
  CHECK(r.watchpoint_hits == 1);
  CHECK_THAT(r.watch_path_detail, Catch::StartsWith("hardware watchpoints fired (1 hit(s))"));
}

TEST_CASE("monitor: where armed watchpoints do not fire, a polled change decides it after the grace: the run says "
          "so, disarms the slots and goes on polling") {
  HardwareRun run(5ms);
  std::this_thread::sleep_for(300ms);
  REQUIRE(run.log->arm_count() == 1);
  run.kernel.write_u32(run.exit_kind, 0);  // attach: seen by the poll only
  std::this_thread::sleep_for(400ms);      // past the 100 ms grace
  run.kernel.write_u32(run.exit_kind, 1026);
  CHECK(run.next_freeze(1s) == "scheduler error ERROR_STALL");  // polling still catches the error
  auto r = run.f.report_of(run.monitor);
  REQUIRE(r.exit_events.size() == 2);
  CHECK(r.exit_events[0].via == "poll");
  CHECK(r.exit_events[0].vcpu == -1);
  CHECK(r.exit_events[1].via == "poll");
  CHECK(r.watch_path == "polling");
  CHECK_THAT(r.watch_path_detail, Catch::StartsWith("hardware watchpoints did not fire on this host (slot 0's word changed"));
  CHECK_THAT(r.watch_path_detail, Catch::EndsWith("polling every 5 ms"));
  std::lock_guard lock(run.log->mutex);
  CHECK(run.log->disarms == std::vector<uint32_t>{0});
}

TEST_CASE("monitor: a vCPU refusing guest debugging leaves polling, with the vCPU's reason in the report") {
  HardwareRun run(5ms, "KVM_SET_GUEST_DEBUG: Invalid argument");
  std::this_thread::sleep_for(300ms);
  run.kernel.write_u32(run.exit_kind, 0);
  std::this_thread::sleep_for(100ms);
  auto r = run.f.report_of(run.monitor);
  REQUIRE(r.exit_events.size() == 1);
  CHECK(r.exit_events[0].via == "poll");
  CHECK(r.watch_path == "polling");
  CHECK(r.watch_path_detail ==
        "hardware watchpoints unavailable (vCPU 0 refused watchpoint slot 0: KVM_SET_GUEST_DEBUG: Invalid argument): "
        "polling every 5 ms");
}

TEST_CASE("monitor: with hardware watchpoints off nothing is armed and the report says why") {
  HardwareRun run(5ms, {}, false);
  std::this_thread::sleep_for(300ms);
  run.kernel.write_u32(run.exit_kind, 0);
  std::this_thread::sleep_for(100ms);
  auto r = run.f.report_of(run.monitor);
  CHECK(run.log->arm_count() == 0);
  REQUIRE(r.exit_events.size() == 1);
  CHECK(r.watch_path == "polling");
  CHECK(r.watch_path_detail == "hardware watchpoints off (test): polling every 5 ms");
}

TEST_CASE("monitor: a hit on a watched word the poll already reported names that event's writer") {
  Fixture f;
  guest_kernel::testing::SyntheticKernel kernel;
  auto mc = config_for(kernel, 50ms, 5ms, 1);
  mc.watch_grace = 500ms;
  const uint64_t word = kernel.layout.symbols.jiffies_64;
  mc.watches.push_back({2, "jiffies_64", "jiffies_64", word, 8, false});
  auto log = std::make_shared<DebugLog>();
  auto monitor = f.sys->spawn(actors::monitor_actor, mc);
  auto bsp = f.sys->spawn(debugging_bsp, kernel.input(), log, std::string());
  caf::anon_send(bsp, monitor);
  std::this_thread::sleep_for(300ms);
  {
    std::lock_guard lock(log->mutex);
    REQUIRE(log->arms.size() == 2);  // slot 0 (exit kind) and slot 2 (the watch)
    CHECK(log->arms[1].slot == 2);
    CHECK(log->arms[1].address == kernel.image_va(word));
    CHECK(log->arms[1].length == 8);
  }
  kernel.write_u64(kernel.image_va(word), 0x1'0000'2469ull);
  std::this_thread::sleep_for(50ms);  // the poll sees it first here
  caf::anon_send(monitor, msg::watchpoint_hit{2, 0, kernel.image_va(word), 0xffffffff81000abcull, 0x4, 0.35});
  std::this_thread::sleep_for(50ms);
  auto r = f.report_of(monitor);
  REQUIRE(r.watch_events.size() == 1);
  CHECK(r.watch_events[0].via == "poll");
  CHECK(r.watch_events[0].vcpu == 0);
  CHECK(r.watch_events[0].rip == 0xffffffff81000abcull);
  CHECK(r.watch_path == "hardware");
  caf::anon_send_exit(monitor, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(bsp, caf::exit_reason::user_shutdown);
}

TEST_CASE("monitor: a scenario's watch op is watched only from its step on, and with a condition only changes "
          "meeting it are events (all are counted)") {
  Fixture f;
  guest_kernel::testing::SyntheticKernel kernel;
  auto mc = config_for(kernel, 50ms, 5ms, 1);
  const uint64_t word = kernel.layout.symbols.jiffies_64;
  actors::WatchConfig w{1, "jiffies_64", "jiffies_64", word, 8, false};
  w.from_step = 1;
  w.when = guest_kernel::parse_word_condition(">= 0x100002470");
  mc.watches.push_back(w);
  auto log = std::make_shared<DebugLog>();
  auto monitor = f.sys->spawn(actors::monitor_actor, mc);
  auto bsp = f.sys->spawn(debugging_bsp, kernel.input(), log, std::string());
  caf::anon_send(bsp, monitor);
  std::this_thread::sleep_for(300ms);
  const uint64_t va = kernel.image_va(word);
  kernel.write_u64(va, 0x1'0000'2469ull);  // before its step: not watched
  std::this_thread::sleep_for(50ms);
  caf::anon_send(monitor, msg::scenario_step{0});
  std::this_thread::sleep_for(50ms);
  {
    std::lock_guard lock(log->mutex);
    REQUIRE(log->arms.size() == 1);  // the exit kind only: step 0 is not the watch's step
    CHECK(log->arms[0].slot == 0);
  }
  caf::anon_send(monitor, msg::scenario_step{1});
  std::this_thread::sleep_for(50ms);
  {
    std::lock_guard lock(log->mutex);
    REQUIRE(log->arms.size() == 2);  // armed with its step
    CHECK(log->arms[1].slot == 1);
    CHECK(log->arms[1].address == va);
  }
  kernel.write_u64(va, 0x1'0000'246Full);  // below the condition: counted, no event
  std::this_thread::sleep_for(50ms);
  kernel.write_u64(va, 0x1'0000'2471ull);  // meets it
  std::this_thread::sleep_for(50ms);
  auto r = f.report_of(monitor);
  REQUIRE(r.watches.size() == 1);
  CHECK(r.watches[0].from_step == 1);
  CHECK(r.watches[0].when == ">= 4294976624");
  CHECK(r.watches[0].active_at_s > 0.3);
  CHECK(r.watches[0].changes == 2);
  REQUIRE(r.watch_events.size() == 1);
  CHECK(r.watch_events[0].old_value == 0x1'0000'246Full);
  CHECK(r.watch_events[0].new_value == 0x1'0000'2471ull);
  caf::anon_send_exit(monitor, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(bsp, caf::exit_reason::user_shutdown);
}

namespace {

/// The synthetic kernel's RAM as the monitor's store for guest_write faults.
actors::PhysicalStore store_into(std::shared_ptr<guest_kernel::testing::SparseRam> ram) {
  return [ram](uint64_t gpa, uint64_t value, uint32_t size) {
    std::vector<uint8_t> bytes(size);
    for (uint32_t i = 0; i < size; ++i) bytes[i] = static_cast<uint8_t>(value >> (8 * i));
    ram->write(gpa, bytes);
    return true;
  };
}

msg::fault_outcome next_outcome(Fixture& f, std::chrono::milliseconds within) {
  msg::fault_outcome out;
  out.error = "no answer";
  (*f.probe)->receive([&](msg::fault_outcome& o) { out = std::move(o); }, caf::after(within) >> [] {});
  return out;
}

}  // namespace

TEST_CASE("monitor: a guest_write that comes before the kernel is located waits for it, then stores the value at "
          "the slid address and answers old and new value") {
  Fixture f;
  guest_kernel::testing::SyntheticKernel kernel;
  auto mc = config_for(kernel, 50ms);
  mc.store = store_into(kernel.ram);
  const uint64_t word = kernel.layout.symbols.jiffies_64;
  const uint64_t before = kernel.read_u64(kernel.image_va(word));
  auto monitor = f.sys->spawn(actors::monitor_actor, mc);
  (*f.probe)->send(monitor, msg::guest_write{4, word, 8, 0x1234});
  CHECK(next_outcome(f, 300ms).error == "no answer");  // no kernel yet: nothing written
  CHECK(kernel.read_u64(kernel.image_va(word)) == before);
  auto bsp = f.sys->spawn(booted_bsp, kernel.input());
  caf::anon_send(bsp, monitor);
  const auto out = next_outcome(f, 3s);
  CHECK(out.error.empty());
  CHECK(out.index == 4);
  CHECK(out.accepted);
  CHECK(out.old_value == before);
  CHECK(out.new_value == 0x1234);
  CHECK(out.applied_at_s > 0);
  CHECK(kernel.read_u64(kernel.image_va(word)) == 0x1234);
  // Once located, a write is carried out at once; a 4-byte one leaves the upper half alone.
  (*f.probe)->send(monitor, msg::guest_write{5, word, 4, 0x9});
  const auto second = next_outcome(f, 2s);
  CHECK(second.accepted);
  CHECK(second.old_value == 0x1234);
  CHECK(second.new_value == 0x9);
  CHECK(kernel.read_u64(kernel.image_va(word)) == 0x9);
  caf::anon_send_exit(monitor, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(bsp, caf::exit_reason::user_shutdown);
}

TEST_CASE("monitor: a guest_write on an unavailable monitor, or one that cannot store, is refused with the reason") {
  Fixture f;
  actors::MonitorConfig none;
  none.unavailable = "monitor unavailable: kernel has no .BTF section";
  none.vcpus = 1;
  none.view = std::make_shared<actors::GuestView>();
  auto blind = f.sys->spawn(actors::monitor_actor, none);
  (*f.probe)->send(blind, msg::guest_write{2, 0xffffffff82000000ull, 8, 1});
  const auto refused = next_outcome(f, 2s);
  CHECK(refused.index == 2);
  CHECK_FALSE(refused.accepted);
  CHECK(refused.applied_at_s == -1);
  CHECK(refused.error == none.unavailable);
  caf::anon_send_exit(blind, caf::exit_reason::user_shutdown);

  guest_kernel::testing::SyntheticKernel kernel;
  auto mc = config_for(kernel, 50ms);
  mc.store = [](uint64_t, uint64_t, uint32_t) { return false; };
  auto monitor = f.sys->spawn(actors::monitor_actor, mc);
  auto bsp = f.sys->spawn(booted_bsp, kernel.input());
  caf::anon_send(bsp, monitor);
  (*f.probe)->send(monitor, msg::guest_write{3, kernel.layout.symbols.jiffies_64, 8, 1});
  const auto failed = next_outcome(f, 3s);
  CHECK_FALSE(failed.accepted);
  CHECK_THAT(failed.error, Catch::StartsWith("the store to guest-physical 0x"));
  caf::anon_send_exit(monitor, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(bsp, caf::exit_reason::user_shutdown);
}
