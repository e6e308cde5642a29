#include "actors/vcpu_capture.hpp"

#include <exception>
#include <string>

namespace ktstr::actors {

namespace {

msg::segment_register segment_of(const kvm_segment& s) {
  return {s.base, s.limit, s.selector, s.type, s.present, s.dpl, s.db, s.s, s.l, s.g, s.unusable};
}

void take_regs(const kvm_regs& r, msg::vcpu_registers& out) {
  out.gprs = {r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rsp, r.rbp,
              r.r8,  r.r9,  r.r10, r.r11, r.r12, r.r13, r.r14, r.r15};
  out.rip = r.rip;
  out.rflags = r.rflags;
}

void take_sregs(const kvm_sregs& s, msg::vcpu_registers& out) {
  out.cr0 = s.cr0;
  out.cr2 = s.cr2;
  out.cr3 = s.cr3;
  out.cr4 = s.cr4;
  out.cr8 = s.cr8;
  out.efer = s.efer;
  out.apic_base = s.apic_base;
  out.fs_base = s.fs.base;
  out.gs_base = s.gs.base;
  out.cs = s.cs.selector;
  out.segments.clear();
  for (const auto* seg : {&s.cs, &s.ds, &s.es, &s.fs, &s.gs, &s.ss, &s.tr, &s.ldt}) out.segments.push_back(segment_of(*seg));
  out.gdt = {s.gdt.base, s.gdt.limit};
  out.idt = {s.idt.base, s.idt.limit};
}

void take_events(const kvm_vcpu_events& e, msg::vcpu_registers& out) {
  auto& ev = out.events;
  ev.exception_injected = e.exception.injected;
  ev.exception_pending = e.exception.pending;
  ev.exception_has_error_code = e.exception.has_error_code;
  ev.exception_nr = e.exception.nr;
  ev.exception_error_code = e.exception.error_code;
  ev.interrupt_injected = e.interrupt.injected;
  ev.interrupt_soft = e.interrupt.soft;
  ev.interrupt_nr = e.interrupt.nr;
  ev.interrupt_shadow = e.interrupt.shadow;
  ev.nmi_injected = e.nmi.injected;
  ev.nmi_pending = e.nmi.pending;
  ev.nmi_masked = e.nmi.masked;
  ev.sipi_vector = e.sipi_vector;
  ev.flags = e.flags;
}

/// One read: what KVM refused is named, the rest of the capture goes on.
template <class Read>
void attempt(msg::vcpu_registers& out, Read&& read) {
  try {
    read();
  } catch (const std::exception& e) {
    out.unreadable.push_back(e.what());
  }
}

}  // namespace

msg::vcpu_registers capture_state(const kvm::VcpuStateReader& vcpu) {
  msg::vcpu_registers out;
  attempt(out, [&] { take_regs(vcpu.regs(), out); });
  attempt(out, [&] { take_sregs(vcpu.sregs(), out); });
  attempt(out, [&] { take_events(vcpu.vcpu_events(), out); });
  attempt(out, [&] { out.mp_state = vcpu.mp_state().mp_state; });
  attempt(out, [&] { out.lapic_id = kvm::lapic_id(vcpu.lapic()); });
  return out;
}

std::string shutdown_state_note(const msg::vcpu_registers& s) {
  const bool init_state = s.unreadable.empty() && s.rip == 0xfff0 && s.cs == 0xf000 && (s.cr0 & 1) == 0;
  if (!init_state) return {};
  return "KVM reset this vCPU after the triple fault (the INIT state: rip 0xfff0, CS 0xf000; KVM on AMD SVM "
         "re-initializes a vCPU on a shutdown intercept): its state at the fault is lost";
}

}  // namespace ktstr::actors
