#include <catch2/catch.hpp>

#include "actors/watchdog.hpp"

using namespace ktstr::actors;
using namespace std::chrono_literals;

TEST_CASE("the run deadline has a soft stage, then a hard stage after the grace") {
  WatchdogConfig c;
  c.run_deadline = 10s;
  c.hard_grace = 3s;
  WatchdogClock w(c);
  CHECK_FALSE(w.soft_due(c.start + 9s));
  CHECK(w.soft_due(c.start + 10s));
  CHECK_FALSE(w.hard_due(c.start + 12s));
  CHECK(w.hard_due(c.start + 13s));
}

TEST_CASE("time spent frozen extends every deadline") {
  WatchdogConfig c;
  c.run_deadline = 10s;
  c.stall_timeout = 5s;
  WatchdogClock w(c);
  w.on_frozen(4s);
  CHECK_FALSE(w.soft_due(c.start + 13s));
  CHECK(w.soft_due(c.start + 14s));
  CHECK_FALSE(w.stall_due(c.start + 8s));  // 8 s silent, 4 of them frozen
  CHECK(w.stall_due(c.start + 9s));
}

TEST_CASE("guest progress resets the stall clock - a zero stall timeout never fires") {
  WatchdogConfig c;
  c.stall_timeout = 5s;
  WatchdogClock w(c);
  w.on_progress(c.start + 4s);
  CHECK_FALSE(w.stall_due(c.start + 8s));
  CHECK(w.stall_due(c.start + 9s));
  WatchdogConfig off;
  off.stall_timeout = 0s;
  CHECK_FALSE(WatchdogClock(off).stall_due(off.start + 1000s));
}
