// result.json's "faults": the fields each kind records, and the summary's line for it.
#include <catch2/catch.hpp>

#include "apps/cli/report/fault_json.hpp"

using namespace ktstr;

namespace {

msg::fault_event event(const std::string& kind, const std::string& spec) {
  msg::fault_event f;
  f.kind = kind;
  f.spec = spec;
  f.vcpu = 1;
  f.at_s = 5;
  return f;
}

}  // namespace

TEST_CASE("fault json: a vcpu_jitter records its plan, pauses and times - one never applied says so") {
  auto f = event("vcpu_jitter", "vcpu_jitter:1@5+1/100:30");
  f.seconds = 1;
  f.period_ms = 100;
  f.pause_ms = 30;
  auto j = cli::fault_json(f);
  CHECK(j["applied_at_s"].is_null());
  CHECK(j["error"].is_null());
  CHECK(cli::fault_line(j) == "not applied (the VM ended first)");
  f.applied_at_s = 5.01;
  f.ended_at_s = 5.93;
  f.pauses = 10;
  j = cli::fault_json(f);
  CHECK(j["vcpu"] == 1);
  CHECK(j["period_ms"] == 100);
  CHECK(j["pause_ms"] == 30);
  CHECK(j["pauses"] == 10);
  CHECK(j["seconds"] == 1);
  CHECK(cli::fault_line(j) == "vCPU 1 paused 10 time(s) from 5.01 s to 5.93 s");
}

TEST_CASE("fault json: kick_loss records count and dropped - nmi whether KVM accepted it") {
  auto k = event("kick_loss", "kick_loss:1@5+3");
  k.count = 3;
  k.dropped = 2;
  k.applied_at_s = 5.0;
  auto j = cli::fault_json(k);
  CHECK(j["count"] == 3);
  CHECK(j["dropped"] == 2);
  CHECK_FALSE(j.contains("seconds"));
  CHECK(cli::fault_line(j) == "vCPU 1 dropped 2 of 3 kick(s) from 5.00 s");
  auto n = event("nmi", "nmi:1@5");
  n.applied_at_s = 5.2;
  n.error = "KVM_NMI (vCPU 1): Invalid argument";
  j = cli::fault_json(n);
  CHECK(j["accepted"] == false);
  CHECK(j["error"] == n.error);
  CHECK(cli::fault_line(j) == "KVM refused the NMI at 5.20 s: KVM_NMI (vCPU 1): Invalid argument");
}

TEST_CASE("fault json: guest_write records target, old and new value - a failed one its reason and no values") {
  auto w = event("guest_write", "guest_write:scx_watchdog_timeout=1@5");
  w.symbol = "scx_watchdog_timeout";
  w.link_address = 0xffffffff833ca838ull;
  w.value = 1;
  w.error = "monitor unavailable: no kernel layout";
  auto j = cli::fault_json(w);
  CHECK_FALSE(j.contains("vcpu"));
  CHECK(j["written"] == false);
  CHECK(j["old_value"].is_null());
  CHECK(cli::fault_line(j) == "not applied: monitor unavailable: no kernel layout");
  w.error.clear();
  w.applied_at_s = 5.1;
  w.accepted = true;
  w.old_value = 7500;
  w.new_value = 1;
  j = cli::fault_json(w);
  CHECK(j["link_address"] == "0xffffffff833ca838");
  CHECK(j["old_value"] == 7500);
  CHECK(j["new_value"] == 1);
  CHECK(cli::fault_line(j) == "scx_watchdog_timeout was 7500, now 1 (written at 5.10 s)");
}
