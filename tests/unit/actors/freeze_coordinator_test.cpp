// The freeze protocol, with fake vCPU actors in place of real ones: who parks, who does
// not, what the snapshot says and who gets thawed.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <set>

#include "actors/freeze_coordinator.hpp"
#include "actors/runtime_config.hpp"

using namespace ktstr;
using namespace std::chrono_literals;

namespace {

enum class Fake { parks, never_parks, parks_twice, parks_late };

/// A vCPU stand-in: answers freeze as told, reports every thaw to `probe`.
caf::behavior fake_vcpu(caf::event_based_actor* self, uint32_t index, Fake mode, caf::actor probe) {
  return {
      [=](msg::freeze& f) {
        auto coordinator = caf::actor_cast<caf::actor>(self->current_sender());
        msg::parked p{f.id, index, {}};
        p.registers.rip = 0x1000 + index;
        switch (mode) {
          case Fake::parks: self->send(coordinator, p); break;
          case Fake::parks_twice: self->send(coordinator, p), self->send(coordinator, p); break;
          case Fake::parks_late: self->delayed_send(coordinator, 400ms, p); break;
          case Fake::never_parks: break;
        }
      },
      [=](msg::thaw& t) { self->send(probe, t, index); },
  };
}

struct Fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<caf::scoped_actor> probe;
  actors::freeze_coordinator_actor_t coordinator;
  std::vector<uint32_t> kicked;

  explicit Fixture(std::vector<Fake> modes, std::function<msg::guest_state()> read_guest_state = {}) {
    actors::configure_runtime(cfg);  // the CLI's runtime: work-sharing scheduler
    sys = std::make_unique<caf::actor_system>(cfg);
    probe = std::make_unique<caf::scoped_actor>(*sys);
    actors::FreezeCoordinatorConfig fc;
    for (uint32_t i = 0; i < modes.size(); ++i)
      fc.vcpus.push_back(sys->spawn(fake_vcpu, i, modes[i], caf::actor_cast<caf::actor>(*probe)));
    fc.deadline = 150ms;
    fc.observer = caf::actor_cast<actors::run_observer>(*probe);
    fc.read_guest_state = std::move(read_guest_state);
    coordinator = sys->spawn(actors::freeze_coordinator_actor, std::move(fc));
  }
  ~Fixture() {
    caf::anon_send_exit(coordinator, caf::exit_reason::user_shutdown);
    probe.reset();
  }

  /// Collects the snapshot and the thaws that follow it.
  std::pair<msg::snapshot, std::set<uint32_t>> freeze_once(size_t vcpus) {
    (*probe)->send(coordinator, msg::freeze_request{"test"});
    msg::snapshot snap;
    std::set<uint32_t> thawed;
    bool have_snapshot = false;
    (*probe)->receive_while([&] { return !have_snapshot || thawed.size() < vcpus; })(
        [&](msg::snapshot& s) { snap = std::move(s), have_snapshot = true; },
        [&](msg::thaw& t, uint32_t index) {
          if (t.freeze_id == snap.id || !have_snapshot) thawed.insert(index);
        },
        caf::after(5s) >> [&] { FAIL("no snapshot/thaw within 5 s"); });
    return {snap, thawed};
  }
};

}  // namespace

TEST_CASE("freeze-all: every vCPU parks, the snapshot is complete and everyone is thawed") {
  Fixture f({Fake::parks, Fake::parks, Fake::parks, Fake::parks});
  auto [snap, thawed] = f.freeze_once(4);
  CHECK_FALSE(snap.partial);
  CHECK(snap.missing.empty());
  REQUIRE(snap.vcpus.size() == 4);
  for (uint32_t i = 0; i < 4; ++i) CHECK(snap.vcpus[i].registers.rip == 0x1000 + i);
  CHECK(thawed == std::set<uint32_t>{0, 1, 2, 3});
  CHECK(snap.trigger == "test");
}

TEST_CASE("a vCPU that never parks makes the snapshot partial and is named - the others are thawed") {
  Fixture f({Fake::parks, Fake::never_parks, Fake::parks});
  auto [snap, thawed] = f.freeze_once(3);
  CHECK(snap.partial);
  CHECK(snap.missing == std::vector<uint32_t>{1});
  CHECK(snap.vcpus.size() == 2);
  CHECK(snap.latency_s >= 0.15);
  CHECK(thawed.count(0) == 1);
  CHECK(thawed.count(2) == 1);
}

TEST_CASE("a parked that arrives after the deadline is ignored: no second snapshot") {
  Fixture f({Fake::parks, Fake::parks_late});
  auto [snap, thawed] = f.freeze_once(2);
  CHECK(snap.partial);
  CHECK(snap.missing == std::vector<uint32_t>{1});
  bool extra = false;
  (*f.probe)->receive([&](msg::snapshot&) { extra = true; }, [&](msg::thaw&, uint32_t) {},
                      caf::after(700ms) >> [] {});
  CHECK_FALSE(extra);
  // The coordinator still works after the late reply.
  (*f.probe)->send(f.coordinator, msg::freeze_request{"again"});
  bool got = false;
  (*f.probe)->receive_while([&] { return !got; })([&](msg::snapshot& s) { got = s.trigger == "again"; },
                                                  [&](msg::thaw&, uint32_t) {}, caf::after(5s) >> [&] { got = true; });
  CHECK(got);
}

TEST_CASE("a duplicate parked is harmless: one entry per vCPU, one snapshot") {
  Fixture f({Fake::parks_twice, Fake::parks});
  auto [snap, thawed] = f.freeze_once(2);
  CHECK_FALSE(snap.partial);
  CHECK(snap.vcpus.size() == 2);
  bool extra = false;
  (*f.probe)->receive([&](msg::snapshot&) { extra = true; }, caf::after(300ms) >> [] {});
  CHECK_FALSE(extra);
}

TEST_CASE("requests during a freeze are queued and served in order") {
  Fixture f({Fake::parks, Fake::parks});
  (*f.probe)->send(f.coordinator, msg::freeze_request{"first"});
  (*f.probe)->send(f.coordinator, msg::freeze_request{"second"});
  std::vector<std::string> triggers;
  (*f.probe)->receive_while([&] { return triggers.size() < 2; })(
      [&](msg::snapshot& s) { triggers.push_back(s.trigger); }, [&](msg::thaw&, uint32_t) {},
      caf::after(5s) >> [&] { triggers.push_back("timeout"); });
  CHECK(triggers == std::vector<std::string>{"first", "second"});
}

TEST_CASE("a complete freeze carries the guest state read before the thaw - a partial one says why it has none") {
  auto reads = std::make_shared<std::atomic<int>>(0);
  auto read = [reads] {
    ++*reads;
    msg::guest_state state;
    state.ok = true;
    guest_kernel::CpuSample cpu;
    cpu.cpu = 1;
    cpu.nr_running = {3, true};
    state.cpus.push_back(cpu);
    return state;
  };
  {
    Fixture f({Fake::parks, Fake::parks}, read);
    auto [snap, thawed] = f.freeze_once(2);
    CHECK_FALSE(snap.partial);
    CHECK(*reads == 1);
    REQUIRE(snap.guest.ok);
    REQUIRE(snap.guest.cpus.size() == 1);
    CHECK(snap.guest.cpus[0].nr_running.value == 3);
  }
  {
    Fixture f({Fake::parks, Fake::never_parks}, read);
    auto [snap, thawed] = f.freeze_once(1);
    CHECK(snap.partial);
    CHECK(*reads == 1);  // not read while a vCPU still ran
    CHECK_FALSE(snap.guest.ok);
    CHECK_THAT(snap.guest.unavailable, Catch::Contains("partial"));
  }
  {
    Fixture f({Fake::parks});
    auto [snap, thawed] = f.freeze_once(1);
    CHECK_FALSE(snap.guest.ok);
    CHECK(snap.guest.unavailable == "monitor off");
  }
}

TEST_CASE("a final freeze skips the vCPUs that left, thaws nobody and ends the coordinator's work") {
  Fixture f({Fake::parks, Fake::never_parks, Fake::parks});
  (*f.probe)->send(f.coordinator, msg::freeze_request{"vm end: shutdown", true, {1}, 2000});
  msg::snapshot snap;
  bool got = false;
  (*f.probe)->receive([&](msg::snapshot& s) { snap = std::move(s), got = true; },
                      caf::after(1500ms) >> [] {});  // well before its 2 s deadline: vCPU 1 is not waited for
  REQUIRE(got);
  CHECK(snap.trigger == "vm end: shutdown");
  CHECK_FALSE(snap.partial);
  CHECK(snap.missing.empty());
  REQUIRE(snap.vcpus.size() == 2);
  CHECK(snap.vcpus[0].vcpu == 0);
  CHECK(snap.vcpus[1].vcpu == 2);
  CHECK_FALSE(snap.guest.ok);
  bool thawed = false, another = false, quiet = false;
  (*f.probe)->send(f.coordinator, msg::freeze_request{"after the end"});
  (*f.probe)->receive_while([&] { return !thawed && !another && !quiet; })(
      [&](msg::thaw&, uint32_t) { thawed = true; }, [&](msg::snapshot&) { another = true; },
      caf::after(400ms) >> [&] { quiet = true; });
  CHECK_FALSE(thawed);
  CHECK_FALSE(another);
}

TEST_CASE("a final freeze is bounded: a vCPU that does not park is named missing at its own deadline") {
  Fixture f({Fake::parks, Fake::never_parks});
  const auto began = std::chrono::steady_clock::now();
  (*f.probe)->send(f.coordinator, msg::freeze_request{"vm end: hang", true, {}, 100});
  msg::snapshot snap;
  (*f.probe)->receive([&](msg::snapshot& s) { snap = std::move(s); }, caf::after(5s) >> [] { FAIL("no snapshot"); });
  CHECK(std::chrono::steady_clock::now() - began < 2s);
  CHECK(snap.partial);
  CHECK(snap.missing == std::vector<uint32_t>{1});
  REQUIRE(snap.vcpus.size() == 1);
  CHECK(snap.vcpus[0].registers.rip == 0x1000);
}

TEST_CASE("a final request during a freeze completes that freeze at once and follows it") {
  Fixture f({Fake::parks, Fake::never_parks});
  (*f.probe)->send(f.coordinator, msg::freeze_request{"periodic"});
  (*f.probe)->send(f.coordinator, msg::freeze_request{"vm end: panic", true, {1}, 1000});
  std::vector<msg::snapshot> snaps;
  (*f.probe)->receive_while([&] { return snaps.size() < 2; })(
      [&](msg::snapshot& s) { snaps.push_back(std::move(s)); }, [&](msg::thaw&, uint32_t) {},
      caf::after(5s) >> [&] { FAIL("no second snapshot"); });
  REQUIRE(snaps.size() == 2);
  CHECK(snaps[0].trigger == "periodic");
  CHECK(snaps[0].partial);
  CHECK(snaps[1].trigger == "vm end: panic");
  CHECK_FALSE(snaps[1].partial);
  REQUIRE(snaps[1].vcpus.size() == 1);
  CHECK(snaps[1].vcpus[0].vcpu == 0);
}
