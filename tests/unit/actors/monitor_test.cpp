// The monitor actor without a live guest: it asks vCPU 0 (a stand-in actor) for its
// registers until the kernel has set MSR_LSTAR, gives up with the reason after its
// window, and without a kernel layout reports the layout's reason and samples nothing.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "actors/monitor.hpp"
#include "actors/runtime_config.hpp"
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

/// vCPU 0's stand-in on a booted (synthetic) kernel: answers with its LSTAR, CR3, CR4.
caf::behavior booted_bsp(caf::event_based_actor* self, guest_kernel::LocateInput regs) {
  return {
      [=](actors::monitor_actor_t monitor) { self->send(monitor, msg::vcpu_started{0, 4242}); },
      [=](msg::cpu_state_query& q) {
        msg::cpu_state s;
        s.id = q.id;
        s.ok = true;
        s.lstar = regs.lstar;
        s.cr3 = regs.cr3;
        s.cr4 = regs.cr4;
        self->send(caf::actor_cast<caf::actor>(self->current_sender()), s);
      },
  };
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
        .receive([&](msg::monitor_report& r) { out = std::move(r); }, [&](caf::error&) { FAIL("no report"); });
    return out;
  }
};

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
  mc.kick_bsp = [&kicks] { ++kicks; };
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
  actors::MonitorConfig mc;
  mc.layout = kernel.layout;
  mc.memory = kernel.ram;
  mc.vcpus = kernel.options.cpus;
  mc.period = 20ms;
  mc.view = std::make_shared<actors::GuestView>();
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
  actors::MonitorConfig mc;
  mc.layout = kernel.layout;
  mc.layout->release = "6.1.0-57-amd64";  // the image the layout came from is not what booted
  mc.memory = kernel.ram;
  mc.vcpus = kernel.options.cpus;
  mc.period = 20ms;
  mc.view = std::make_shared<actors::GuestView>();
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
          "one snapshot; attach and teardown are events without one") {
  Fixture f;
  guest_kernel::testing::SyntheticKernel kernel;
  // As at boot: no scheduler ever ran, the exit kind reads DONE.
  kernel.write_u32(kernel.image_va(kernel.layout.symbols.scx_exit_kind), 1);
  actors::MonitorConfig mc;
  mc.layout = kernel.layout;
  mc.memory = kernel.ram;
  mc.vcpus = kernel.options.cpus;
  mc.period = 50ms;
  mc.exit_poll = 5ms;
  mc.view = std::make_shared<actors::GuestView>();
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
  actors::MonitorConfig mc;
  mc.layout = kernel.layout;
  mc.memory = kernel.ram;
  mc.vcpus = kernel.options.cpus;
  mc.period = 50ms;
  mc.exit_poll = 5ms;
  mc.view = std::make_shared<actors::GuestView>();
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
