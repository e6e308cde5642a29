// kick_loss on the vCPU's side: which kicked exits it ignores, how many it counts, and
// the one outcome it owes the vm actor per fault.
#include <catch2/catch.hpp>

#include "actors/kick_loss.hpp"

using ktstr::actors::KickLoss;

TEST_CASE("kick_loss: nothing is dropped before the fault, then exactly COUNT kicks, then none") {
  KickLoss loss;
  CHECK_FALSE(loss.drop(1.0));
  CHECK_FALSE(loss.report(false));
  loss.arm(3, 2, 2.0);
  CHECK_FALSE(loss.report(false));  // nothing owed while kicks are still to drop
  CHECK(loss.drop(2.1));
  CHECK_FALSE(loss.report(false));
  CHECK(loss.drop(2.2));
  CHECK_FALSE(loss.drop(2.3));  // the third kick gets through
  auto out = loss.report(false);
  REQUIRE(out);
  CHECK(out->index == 3);
  CHECK(out->dropped == 2);
  CHECK(out->applied_at_s == 2.0);
  CHECK(out->ended_at_s == 2.2);
  CHECK(out->accepted);
  CHECK_FALSE(loss.report(true));  // reported once
}

TEST_CASE("kick_loss: a vCPU leaving its loop reports the kicks dropped so far, with no end time") {
  KickLoss loss;
  loss.arm(0, 10, 5.0);
  CHECK(loss.drop(5.5));
  auto out = loss.report(true);
  REQUIRE(out);
  CHECK(out->dropped == 1);
  CHECK(out->ended_at_s == -1);
  CHECK_FALSE(loss.report(true));
  CHECK_FALSE(loss.drop(6.0));
}

TEST_CASE("kick_loss: a second fault ends the first, whose outcome is owed first") {
  KickLoss loss;
  loss.arm(1, 5, 1.0);
  CHECK(loss.drop(1.1));
  loss.arm(2, 1, 2.0);
  auto first = loss.report(false);
  REQUIRE(first);
  CHECK(first->index == 1);
  CHECK(first->dropped == 1);
  CHECK(first->ended_at_s == -1);
  CHECK(loss.drop(2.5));
  auto second = loss.report(false);
  REQUIRE(second);
  CHECK(second->index == 2);
  CHECK(second->dropped == 1);
  CHECK(second->ended_at_s == 2.5);
}
