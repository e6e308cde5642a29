// The one capture of a vCPU's state (freezes and guest deaths), on a fake vCPU: every
// field from the KVM structures it reads, a refused read named while the rest is kept,
// and the captured state through CAF's serialization (guest_stopped, run_finished).
#include <catch2/catch.hpp>

#include "tests/support/message_round_trip.hpp"

#include <caf/all.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors/runtime_config.hpp"
#include "actors/vcpu_capture.hpp"
#include "messages/messages.hpp"

using namespace ktstr;

namespace {

/// A vCPU that stopped on a triple fault: rip at an int3 with a zero-limit IDT, a #DF
/// being injected, halted MP state, APIC ID 3. `refuse_lapic` makes KVM_GET_LAPIC fail.
class FakeVcpu : public kvm::VcpuStateReader {
 public:
  bool refuse_lapic = false;
  bool refuse_regs = false;
  mutable int reads = 0;

  uint32_t index() const override { return 1; }
  kvm_regs regs() const override {
    ++reads;
    if (refuse_regs) throw std::runtime_error("KVM_GET_REGS (vCPU 1): Bad file descriptor");
    kvm_regs r{};
    r.rax = 0xa;
    r.rsp = 0x7000;
    r.r15 = 0xf15;
    r.rip = 0x100234;
    r.rflags = 0x2;
    return r;
  }
  kvm_sregs sregs() const override {
    ++reads;
    kvm_sregs s{};
    s.cr0 = 0x80050033;
    s.cr2 = 0xdead000;
    s.cr3 = 0x1000;
    s.cr4 = 0x20;
    s.cr8 = 1;
    s.efer = 0x500;
    s.apic_base = 0xfee00900;
    s.cs = {0, 0xffffffff, 0x10, 0xb, 1, 0, 0, 1, 1, 1, 0, 0, 0};
    s.ds.selector = 0x18;
    s.tr = {0x5000, 0x67, 0x20, 0xb, 1, 0, 0, 0, 0, 0, 0, 0, 0};
    s.ldt.unusable = 1;
    s.gdt = {0x2000, 0x2f, {}};
    s.idt = {0x3000, 0, {}};
    return s;
  }
  kvm_vcpu_events vcpu_events() const override {
    ++reads;
    kvm_vcpu_events e{};
    e.exception.injected = 1;
    e.exception.nr = 8;
    e.exception.has_error_code = 1;
    e.exception.error_code = 0;
    e.nmi.pending = 1;
    e.sipi_vector = 0x9a;
    e.flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR;
    return e;
  }
  kvm_mp_state mp_state() const override {
    ++reads;
    return {KVM_MP_STATE_HALTED};
  }
  kvm_lapic_state lapic() const override {
    ++reads;
    if (refuse_lapic) throw std::runtime_error("KVM_GET_LAPIC (vCPU 1): Invalid argument");
    kvm_lapic_state l{};
    const uint32_t id = 3u << 24;
    std::memcpy(l.regs + 0x20, &id, sizeof id);
    return l;
  }
};

using test::round_trip;

}  // namespace

TEST_CASE("vcpu capture: registers, segments, tables, events, MP state and APIC ID of a fake vCPU", "[capture]") {
  FakeVcpu vcpu;
  const auto s = actors::capture_state(vcpu);
  CHECK(vcpu.reads == 5);  // REGS, SREGS, VCPU_EVENTS, MP_STATE, LAPIC: each once
  CHECK(s.unreadable.empty());
  REQUIRE(s.gprs.size() == 16);
  CHECK(s.gprs[0] == 0xa);
  CHECK(s.gprs[6] == 0x7000);  // rsp
  CHECK(s.gprs[15] == 0xf15);
  CHECK(s.rip == 0x100234);
  CHECK(s.rflags == 0x2);
  CHECK(s.cr0 == 0x80050033);
  CHECK(s.cr2 == 0xdead000);
  CHECK(s.cr3 == 0x1000);
  CHECK(s.cr4 == 0x20);
  CHECK(s.cr8 == 1);
  CHECK(s.efer == 0x500);
  CHECK(s.apic_base == 0xfee00900);
  CHECK(s.cs == 0x10);
  REQUIRE(s.segments.size() == std::size(msg::kSegmentNames));
  CHECK(s.segments[0].selector == 0x10);  // cs
  CHECK(s.segments[0].l == 1);
  CHECK(s.segments[0].limit == 0xffffffff);
  CHECK(s.segments[1].selector == 0x18);  // ds
  CHECK(s.segments[6].base == 0x5000);    // tr
  CHECK(s.segments[6].limit == 0x67);
  CHECK(s.segments[7].unusable == 1);  // ldt
  CHECK(s.gdt.base == 0x2000);
  CHECK(s.gdt.limit == 0x2f);
  CHECK(s.idt.base == 0x3000);
  CHECK(s.idt.limit == 0);
  CHECK(s.events.exception_injected);
  CHECK_FALSE(s.events.exception_pending);
  CHECK(s.events.exception_nr == 8);
  CHECK(s.events.exception_has_error_code);
  CHECK(s.events.nmi_pending);
  CHECK_FALSE(s.events.nmi_injected);
  CHECK(s.events.sipi_vector == 0x9a);
  CHECK(s.events.flags == (KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR));
  CHECK(s.mp_state == KVM_MP_STATE_HALTED);
  CHECK(s.lapic_id == 3);
}

TEST_CASE("vcpu capture: a read KVM refuses is named and the rest is still captured", "[capture]") {
  FakeVcpu vcpu;
  vcpu.refuse_lapic = true;
  auto s = actors::capture_state(vcpu);
  REQUIRE(s.unreadable == std::vector<std::string>{"KVM_GET_LAPIC (vCPU 1): Invalid argument"});
  CHECK(s.rip == 0x100234);
  CHECK(s.mp_state == KVM_MP_STATE_HALTED);
  CHECK(s.lapic_id == 0);

  FakeVcpu no_regs;
  no_regs.refuse_regs = true;
  s = actors::capture_state(no_regs);
  REQUIRE(s.unreadable.size() == 1);
  CHECK(s.unreadable[0].find("KVM_GET_REGS") != std::string::npos);
  CHECK(s.gprs.empty());
  CHECK(s.rip == 0);
  CHECK(s.cr3 == 0x1000);  // the SREGS read still came through
  CHECK(s.lapic_id == 3);
}

TEST_CASE("vcpu capture: the MP state names and the xAPIC ID register", "[capture]") {
  CHECK(std::string(kvm::mp_state_name(KVM_MP_STATE_RUNNABLE)) == "runnable");
  CHECK(std::string(kvm::mp_state_name(KVM_MP_STATE_HALTED)) == "halted");
  CHECK(std::string(kvm::mp_state_name(KVM_MP_STATE_INIT_RECEIVED)) == "init-received");
  CHECK(std::string(kvm::mp_state_name(KVM_MP_STATE_SIPI_RECEIVED)) == "sipi-received");
  CHECK(std::string(kvm::mp_state_name(KVM_MP_STATE_UNINITIALIZED)) == "uninitialized");
  CHECK(std::string(kvm::mp_state_name(1234)) == "unknown");
  kvm_lapic_state l{};
  const uint32_t id = (0xfeu << 24) | 0x00ffffffu;  // the low 24 bits are reserved: ignored
  std::memcpy(l.regs + 0x20, &id, sizeof id);
  CHECK(kvm::lapic_id(l) == 0xfe);
}

TEST_CASE("vcpu capture: a faulting vCPU's state survives serialization in guest_stopped and run_finished", "[capture]") {
  caf::actor_system_config cfg;
  caf::actor_system sys{actors::configure_runtime(cfg)};
  FakeVcpu vcpu;
  msg::guest_stopped stopped{1, msg::guest_stop::shutdown, "triple fault", actors::capture_state(vcpu)};
  msg::run_finished fin;
  fin.how = msg::run_end::shutdown;
  fin.faulting_vcpu = 1;
  fin.vcpu_states.push_back({0, 1, *stopped.state});
  fin.vcpu_states.push_back({7, 0, {}});
  fin.vcpu_states_missing = {2};
  auto out = round_trip(sys, caf::make_message(stopped, fin, msg::vcpu_failed{3, "entry failed"}));
  REQUIRE(out.match_elements<msg::guest_stopped, msg::run_finished, msg::vcpu_failed>());
  const auto& g = out.get_as<msg::guest_stopped>(0);
  REQUIRE(g.state.has_value());
  CHECK(g.state->rip == 0x100234);
  CHECK(g.state->idt.base == 0x3000);
  CHECK(g.state->segments.at(6).base == 0x5000);
  CHECK(g.state->events.exception_nr == 8);
  CHECK(g.state->lapic_id == 3);
  const auto& back = out.get_as<msg::run_finished>(1);
  CHECK(back.faulting_vcpu == 1);
  REQUIRE(back.vcpu_states.size() == 2);
  CHECK(back.vcpu_states[0].vcpu == 1);
  CHECK(back.vcpu_states[0].registers.mp_state == KVM_MP_STATE_HALTED);
  CHECK(back.vcpu_states[1].vcpu == 0);
  CHECK(back.vcpu_states_missing == std::vector<uint32_t>{2});
  CHECK_FALSE(out.get_as<msg::vcpu_failed>(2).state.has_value());
}

TEST_CASE("vcpu capture: a state KVM reset after a triple fault (AMD SVM) is named, a real fault's is not", "[capture]") {
  FakeVcpu vcpu;
  auto fault = actors::capture_state(vcpu);
  CHECK(actors::shutdown_state_note(fault).empty());
  msg::vcpu_registers reset;
  reset.rip = 0xfff0;
  reset.cs = 0xf000;
  reset.cr0 = 0x60000010;
  CHECK_THAT(actors::shutdown_state_note(reset), Catch::Contains("state at the fault is lost"));
  reset.cr0 |= 1;  // protected mode: not the INIT state
  CHECK(actors::shutdown_state_note(reset).empty());
}
