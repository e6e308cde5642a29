// WatchPath: deciding from what happens whether hardware watchpoints catch the watched
// words on this host, with made-up clocks (seconds since VM start).
#include <catch2/catch.hpp>

#include "actors/watch_path.hpp"

using ktstr::actors::WatchPath;
using ktstr::actors::WatchTarget;

namespace {

/// Two vCPUs, 100 ms grace, slot 0 aimed at 0x1000 and taken by both vCPUs at 1.0 s.
WatchPath armed_path() {
  WatchPath p(true, 2, 0.1);
  REQUIRE(p.retarget(0, WatchTarget{0x1000, 4}));
  CHECK_FALSE(p.on_result(0, 0, true, "", 0.9));
  CHECK_FALSE(p.on_result(1, 0, true, "", 1.0));
  return p;
}

}  // namespace

TEST_CASE("watch path: retargeting asks for a message only when the slot's word changes") {
  WatchPath p(true, 1, 0.1);
  CHECK(p.retarget(0, WatchTarget{0x1000, 4}));
  CHECK_FALSE(p.retarget(0, WatchTarget{0x1000, 4}));  // the same word: nothing to send
  CHECK(p.retarget(0, WatchTarget{0x2000, 4}));        // 6.16+: scx_root moved
  CHECK(p.retarget(0, std::nullopt));                  // no scheduler: disarm
  CHECK_FALSE(p.retarget(0, std::nullopt));
  CHECK_FALSE(p.retarget(7, WatchTarget{0x1000, 4}));  // no such slot
  CHECK(p.path() == "hardware+polling");
}

TEST_CASE("watch path: a polled change with no hit within the grace gives the hardware path up, once") {
  auto p = armed_path();
  p.on_polled_change(0, 2.0, 0.01);
  CHECK_FALSE(p.check(2.05));  // still inside the grace: a hit may be on its way
  const auto line = p.check(2.2);
  REQUIRE(line);
  CHECK(*line == "hardware watchpoints did not fire on this host (slot 0's word changed at 2.000 s and no vCPU "
                 "reported a hit within 100 ms): polling");
  CHECK_FALSE(p.check(3.0));  // said once
  CHECK_FALSE(p.hardware_active());
  CHECK(p.path() == "polling");
  CHECK(p.detail(10) == "hardware watchpoints did not fire on this host (slot 0's word changed at 2.000 s and no vCPU "
                        "reported a hit within 100 ms): polling every 10 ms");
}

TEST_CASE("watch path: a hit for the change, before or after the poll saw it, keeps the hardware path") {
  SECTION("the hit arrives after the poll") {
    auto p = armed_path();
    p.on_polled_change(0, 2.0, 0.01);
    CHECK(p.on_hit(0, 2.001));
    CHECK_FALSE(p.check(3.0));
  }
  SECTION("the hit arrived first") {
    auto p = armed_path();
    CHECK(p.on_hit(0, 1.995));
    p.on_polled_change(0, 2.0, 0.01);
    CHECK_FALSE(p.check(3.0));
  }
  auto p = armed_path();
  CHECK(p.on_hit(0, 2.0));
  CHECK(p.hits() == 1);
  CHECK(p.path() == "hardware");
  CHECK(p.detail(10) == "hardware watchpoints fired (1 hit(s)); polling every 10 ms as well");
}

TEST_CASE("watch path: a change before every vCPU took the slot proves nothing") {
  WatchPath p(true, 2, 0.1);
  REQUIRE(p.retarget(0, WatchTarget{0x1000, 4}));
  CHECK_FALSE(p.on_result(0, 0, true, "", 0.5));
  p.on_polled_change(0, 0.6, 0.01);  // vCPU 1 has not answered yet
  CHECK_FALSE(p.check(5.0));
  CHECK_FALSE(p.on_result(1, 0, true, "", 1.0));
  p.on_polled_change(0, 1.005, 0.01);  // may have happened before vCPU 1 took it
  CHECK_FALSE(p.check(5.0));
  CHECK(p.hardware_active());
  CHECK_THAT(p.detail(10), Catch::StartsWith("hardware watchpoints armed, no hit yet"));
}

TEST_CASE("watch path: a refusal turns the hardware path off with the vCPU's reason") {
  WatchPath p(true, 2, 0.1);
  REQUIRE(p.retarget(1, WatchTarget{0x1008, 8}));
  const auto line = p.on_result(1, 1, false, "KVM_SET_GUEST_DEBUG: Invalid argument", 0.2);
  REQUIRE(line);
  CHECK(*line == "hardware watchpoints unavailable on this host (vCPU 1 refused watchpoint slot 1: "
                 "KVM_SET_GUEST_DEBUG: Invalid argument): polling");
  CHECK_FALSE(p.hardware_active());
  CHECK_FALSE(p.retarget(0, WatchTarget{0x1000, 4}));  // nothing is armed any more
  CHECK(p.path() == "polling");
  CHECK_FALSE(p.on_result(0, 1, false, "again", 0.3));  // said once
}

TEST_CASE("watch path: switched off, it arms nothing and says why") {
  WatchPath p(false, 2, 0.1, "hardware watchpoints off (--hardware-watchpoints off)");
  CHECK_FALSE(p.retarget(0, WatchTarget{0x1000, 4}));
  CHECK(p.path() == "polling");
  CHECK(p.detail(10) == "hardware watchpoints off (--hardware-watchpoints off): polling every 10 ms");
  CHECK_FALSE(p.on_hit(0, 1.0));  // no slot aimed: a stray hit is not ours
}
