#pragma once
// The freeze protocol between the freeze coordinator and the vCPUs, and its result.
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "messages/monitor.hpp"

namespace ktstr::msg {

/// One segment register as KVM_GET_SREGS gives it.
struct segment_register {
  uint64_t base = 0;
  uint32_t limit = 0;
  uint16_t selector = 0;
  uint8_t type = 0, present = 0, dpl = 0, db = 0, s = 0, l = 0, g = 0, unusable = 0;
};

/// The order of vcpu_registers::segments.
inline constexpr const char* kSegmentNames[] = {"cs", "ds", "es", "fs", "gs", "ss", "tr", "ldt"};

/// The GDT or IDT register.
struct descriptor_table {
  uint64_t base = 0;
  uint16_t limit = 0;
};

/// KVM_GET_VCPU_EVENTS: what is pending or being injected when the state was read.
struct vcpu_event_state {
  bool exception_injected = false, exception_pending = false, exception_has_error_code = false;
  uint8_t exception_nr = 0;
  uint32_t exception_error_code = 0;
  bool interrupt_injected = false, interrupt_soft = false;
  uint8_t interrupt_nr = 0;
  uint8_t interrupt_shadow = 0;  ///< STI / MOV SS blocking
  bool nmi_injected = false, nmi_pending = false, nmi_masked = false;
  uint32_t sipi_vector = 0;
  uint32_t flags = 0;  ///< KVM_VCPUEVENT_VALID_*: which of the optional fields KVM filled
};

/// A vCPU's architectural state, captured on its own thread (actors/vcpu_capture.hpp):
/// KVM_GET_REGS, KVM_GET_SREGS, KVM_GET_VCPU_EVENTS, KVM_GET_MP_STATE, KVM_GET_LAPIC.
/// A read KVM refused leaves its fields zero and is named in `unreadable`.
struct vcpu_registers {
  std::vector<uint64_t> gprs;  ///< rax rbx rcx rdx rsi rdi rsp rbp r8..r15
  uint64_t rip = 0, rflags = 0;
  uint64_t cr0 = 0, cr2 = 0, cr3 = 0, cr4 = 0, cr8 = 0, efer = 0, apic_base = 0;
  uint64_t fs_base = 0, gs_base = 0;
  uint16_t cs = 0;
  std::vector<segment_register> segments;  ///< kSegmentNames order; empty when SREGS was unreadable
  descriptor_table gdt, idt;
  vcpu_event_state events;
  uint32_t mp_state = 0;  ///< KVM_MP_STATE_* (kvm::mp_state_name)
  uint32_t lapic_id = 0;  ///< the local APIC's ID register
  std::vector<std::string> unreadable;  ///< the reads KVM refused, with why
  std::string note;                     ///< what the state is not (e.g. reset by KVM after a triple fault)
};

/// Coordinator -> vcpu (followed by a native kick): complete pending I/O, capture
/// registers, reply parked, wait for thaw or stop.
struct freeze {
  uint64_t id = 0;
};

/// vcpu -> coordinator: frozen, with its registers.
struct parked {
  uint64_t freeze_id = 0;
  uint32_t vcpu = 0;
  vcpu_registers registers;
};

/// Coordinator -> vcpu: run again.
struct thaw {
  uint64_t freeze_id = 0;
};

/// Anyone -> coordinator: freeze every vCPU now and take a snapshot.
struct freeze_request {
  std::string trigger;  ///< "request", "periodic", "watchpoint", ...
  /// The vm actor's last freeze before it stops a dead or hung guest: nothing is thawed,
  /// the snapshot goes to the coordinator's final listener, later requests are ignored.
  bool final = false;
  std::vector<uint32_t> skip;  ///< vCPUs not to wait for (already left their loop)
  uint32_t deadline_ms = 0;    ///< 0: the coordinator's own deadline
};

/// Coordinator -> itself: the time to collect parked for this freeze is up.
struct freeze_deadline {
  uint64_t freeze_id = 0;
};

/// The coordinator's result for one freeze.
struct snapshot {
  uint64_t id = 0;
  std::string trigger;
  double at_s = 0;           ///< host seconds since VM start when the freeze began
  double latency_s = 0;      ///< freeze request to the last parked (or the deadline)
  double frozen_s = 0;       ///< how long the guest stood still
  bool partial = false;      ///< some vCPU did not park before the deadline
  std::vector<uint32_t> missing;
  std::vector<parked> vcpus;
  guest_state guest;         ///< the scheduler's state read while every vCPU stood still
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, segment_register& x) {
  return f(caf::meta::type_name("segment_register"), x.base, x.limit, x.selector, x.type, x.present, x.dpl, x.db,
           x.s, x.l, x.g, x.unusable);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, descriptor_table& x) {
  return f(caf::meta::type_name("descriptor_table"), x.base, x.limit);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vcpu_event_state& x) {
  return f(caf::meta::type_name("vcpu_event_state"), x.exception_injected, x.exception_pending,
           x.exception_has_error_code, x.exception_nr, x.exception_error_code, x.interrupt_injected, x.interrupt_soft,
           x.interrupt_nr, x.interrupt_shadow, x.nmi_injected, x.nmi_pending, x.nmi_masked, x.sipi_vector, x.flags);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vcpu_registers& x) {
  return f(caf::meta::type_name("vcpu_registers"), x.gprs, x.rip, x.rflags, x.cr0, x.cr2, x.cr3, x.cr4, x.cr8, x.efer,
           x.apic_base, x.fs_base, x.gs_base, x.cs, x.segments, x.gdt, x.idt, x.events, x.mp_state, x.lapic_id,
           x.unreadable, x.note);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, freeze& x) {
  return f(caf::meta::type_name("freeze"), x.id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, parked& x) {
  return f(caf::meta::type_name("parked"), x.freeze_id, x.vcpu, x.registers);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, thaw& x) {
  return f(caf::meta::type_name("thaw"), x.freeze_id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, freeze_request& x) {
  return f(caf::meta::type_name("freeze_request"), x.trigger, x.final, x.skip, x.deadline_ms);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, freeze_deadline& x) {
  return f(caf::meta::type_name("freeze_deadline"), x.freeze_id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, snapshot& x) {
  return f(caf::meta::type_name("snapshot"), x.id, x.trigger, x.at_s, x.latency_s, x.frozen_s, x.partial, x.missing,
           x.vcpus, x.guest);
}

}  // namespace ktstr::msg
