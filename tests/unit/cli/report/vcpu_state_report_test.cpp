// Every vCPU's state at a guest death in result.json's vm_end and in the human report:
// the faulting vCPU first, rip symbolized when a namer is given, the missing ones named.
#include <catch2/catch.hpp>

#include <linux/kvm.h>

#include <algorithm>
#include <sstream>
#include <string>

#include "apps/cli/report/run_report.hpp"
#include "apps/cli/report/vcpu_state_report.hpp"

using namespace ktstr;

namespace {

msg::parked state(uint32_t vcpu, uint64_t rip) {
  msg::parked p{0, vcpu, {}};
  auto& r = p.registers;
  r.gprs.assign(16, 0);
  r.gprs[6] = 0x7000 + vcpu;  // rsp
  r.rip = rip;
  r.rflags = 0x2;
  r.cr0 = 0x80050033;
  r.cr3 = 0x1000;
  r.cs = 0x10;
  r.segments.assign(std::size(msg::kSegmentNames), {});
  r.segments[0].selector = 0x10;
  r.segments[0].l = 1;
  r.gdt = {0x2000, 0x2f};
  r.idt = {0x3000, 0};
  r.mp_state = KVM_MP_STATE_RUNNABLE;
  r.lapic_id = vcpu;
  return p;
}

/// A triple fault of vCPU 1 (its own capture first), vCPU 0 from the final freeze, vCPU 2 missing.
msg::run_finished triple_fault() {
  msg::run_finished fin;
  fin.how = msg::run_end::shutdown;
  fin.detail = "vCPU 1: triple fault";
  fin.faulting_vcpu = 1;
  auto faulting = state(1, 0xffffffff81000010ull);
  faulting.registers.events.exception_injected = true;
  faulting.registers.events.exception_nr = 8;
  faulting.registers.events.exception_has_error_code = true;
  faulting.registers.mp_state = KVM_MP_STATE_HALTED;
  fin.vcpu_states = {faulting, state(0, 0x100000)};
  fin.vcpu_states_missing = {2};
  return fin;
}

cli::BacktraceNamer namer() {
  return [](uint64_t a) -> std::string { return a >= 0xffffffff80000000ull ? "native_safe_halt+0x10" : ""; };
}

}  // namespace

TEST_CASE("vcpu states: result.json vm_end lists every vCPU, the faulting one first, rip symbolized") {
  cli::RunObservation obs;
  obs.finished = triple_fault();
  const kvm::Topology declared(kvm::TopologySpec{});
  auto report = cli::make_run_report(cli::RunOptions{}, "bzImage", declared, obs, {"console.log", "agent.log"}, namer());
  const auto& end = report.json["vm_end"];
  CHECK(end["faulting_vcpu"] == 1);
  REQUIRE(end["vcpu_states"].size() == 2);
  const auto& first = end["vcpu_states"][0];
  CHECK(first["vcpu"] == 1);
  CHECK(first["faulting"] == true);
  CHECK(first["rip"] == "0xffffffff81000010");
  CHECK(first["rip_symbol"] == "native_safe_halt+0x10");
  CHECK(first["mp_state"] == "halted");
  CHECK(first["lapic_id"] == 1);
  CHECK(first["gprs"]["rsp"] == "0x7001");
  CHECK(first["segments"]["cs"]["selector"] == "0x10");
  CHECK(first["segments"]["cs"]["l"] == 1);
  CHECK(first["idt"]["base"] == "0x3000");
  CHECK(first["idt"]["limit"] == "0x0");
  CHECK(first["gdt"]["limit"] == "0x2f");
  CHECK(first["events"]["exception"]["injected"] == true);
  CHECK(first["events"]["exception"]["nr"] == 8);
  CHECK(first["events"]["summary"] == "#DF(0x0) injected");
  const auto& second = end["vcpu_states"][1];
  CHECK(second["vcpu"] == 0);
  CHECK(second["faulting"] == false);
  CHECK(second["rip_symbol"].is_null());  // not a kernel address
  CHECK(second["mp_state"] == "runnable");
  CHECK(end["vcpu_states_missing"] == nlohmann::json::array({2}));

  std::ostringstream text;
  cli::print_run_summary(text, report);
  const std::string out = text.str();
  const auto header = out.find("vCPU states at the end (the faulting vCPU first):");
  const auto one = out.find("  vCPU 1 (faulting): rip 0xffffffff81000010 (native_safe_halt+0x10) rsp 0x7001");
  const auto zero = out.find("  vCPU 0: rip 0x100000 rsp 0x7000");
  REQUIRE(header != std::string::npos);
  REQUIRE(one != std::string::npos);
  REQUIRE(zero != std::string::npos);
  CHECK(header < one);
  CHECK(one < zero);
  CHECK(out.find("    halted, APIC ID 1, IDT 0x3000/0x0, GDT 0x2000/0x2f, events: #DF(0x0) injected") != std::string::npos);
  CHECK(out.find("  vCPU 2: did not park in time") != std::string::npos);
}

TEST_CASE("vcpu states: a normal end has none, and the report says nothing of them") {
  msg::run_finished fin;
  fin.how = msg::run_end::power_off;
  CHECK(cli::vcpu_state_summary(fin).empty());
  CHECK(cli::vcpu_states_json(fin).empty());
}

TEST_CASE("vcpu states: a hang names no faulting vCPU - a faulting vCPU without state is said so") {
  msg::run_finished fin;
  fin.how = msg::run_end::hang;
  fin.vcpu_states = {state(0, 0x1000), state(1, 0x2000)};
  auto lines = cli::vcpu_state_summary(fin);
  REQUIRE(!lines.empty());
  CHECK(lines[0] == "vCPU states at the end:");
  CHECK(cli::vcpu_states_json(fin)[0]["faulting"] == false);

  fin.how = msg::run_end::vcpu_failed;
  fin.faulting_vcpu = 2;
  fin.vcpu_states_missing = {2};
  lines = cli::vcpu_state_summary(fin);
  CHECK(std::find(lines.begin(), lines.end(), "  vCPU 2 (faulting): state not captured") != lines.end());
  CHECK(std::find(lines.begin(), lines.end(), "  vCPU 2: did not park in time") == lines.end());
}

TEST_CASE("vcpu states: pending events in words") {
  msg::vcpu_event_state e;
  CHECK(cli::pending_events_text(e) == "none");
  e.exception_pending = true;
  e.exception_nr = 13;
  e.exception_has_error_code = true;
  e.exception_error_code = 0x18;
  e.nmi_pending = true;
  e.interrupt_injected = true;
  e.interrupt_nr = 0xec;
  CHECK(cli::pending_events_text(e) == "#GP(0x18) pending, interrupt 236 injected, NMI pending");
}
