#pragma once
// One KVM vCPU: its fd and its mapped kvm_run page. Owned by exactly one thread at a
// time (the vcpu actor's); other threads reach it only through its VcpuKick.
#include <linux/kvm.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kvm/fd.hpp"
#include "kvm/system.hpp"
#include "kvm/vcpu_state.hpp"
#include "kvm/vm.hpp"

namespace ktstr::kvm {

class Vcpu : public VcpuStateReader {
 public:
  /// index: Linux logical CPU number; apic_id doubles as the KVM vcpu id.
  Vcpu(const Kvm& kvm, const Vm& vm, uint32_t index, uint32_t apic_id);
  ~Vcpu() override;
  Vcpu(const Vcpu&) = delete;
  Vcpu& operator=(const Vcpu&) = delete;

  uint32_t index() const override { return index_; }
  uint32_t apic_id() const { return apic_id_; }
  int fd() const { return fd_.get(); }
  kvm_run* run_page() const { return run_; }
  size_t run_page_size() const { return run_size_; }

  void set_cpuid(const std::vector<kvm_cpuid_entry2>& entries);
  kvm_regs regs() const override;
  void set_regs(const kvm_regs& regs);
  kvm_sregs sregs() const override;
  void set_sregs(const kvm_sregs& sregs);
  void set_fpu(const kvm_fpu& fpu);
  void set_msrs(const std::vector<kvm_msr_entry>& msrs);
  /// KVM_GET_MSRS for these indices, values in the same order; throws Error{kvm} when
  /// KVM refuses one (named).
  std::vector<uint64_t> msrs(const std::vector<uint32_t>& indices) const;
  /// KVM_SET_GUEST_DEBUG: our hardware watchpoints (kvm/guest_debug.hpp encodes them).
  /// Call between two KVM_RUNs on the owning thread. Throws Error{kvm} when KVM refuses
  /// (some hosts do not support guest debugging).
  void set_guest_debug(const kvm_guest_debug& debug);
  /// KVM_GET/SET_VCPU_EVENTS: pending and injected exceptions, interrupts, NMIs; how a
  /// guest's own #DB goes back to it.
  kvm_vcpu_events vcpu_events() const override;
  void set_vcpu_events(const kvm_vcpu_events& events);
  /// KVM_GET/SET_DEBUGREGS: the guest's own view of DR0-3, DR6 and DR7 (not ours).
  kvm_debugregs debugregs() const;
  void set_debugregs(const kvm_debugregs& regs);
  /// KVM_GET_MP_STATE: runnable, halted, waiting for INIT/SIPI (kvm/vcpu_state.hpp names them).
  kvm_mp_state mp_state() const override;
  /// KVM_GET_LAPIC: the in-kernel local APIC's register page.
  kvm_lapic_state lapic() const override;
  /// LINT0 as ExtINT (the PIC) and LINT1 as NMI, as firmware leaves them.
  void setup_lapic_lints();

  /// KVM_RUN once. Returns 0, or -errno (EINTR when kicked or immediate_exit was set).
  int run();

  /// Enter and leave at once (immediate_exit): completes an instruction whose port I/O
  /// or MMIO we already served, so the captured registers are those after it. Skipped
  /// when the last KVM_RUN left the guest for a signal (KVM_EXIT_INTR): nothing is
  /// pending then, and a kicked vCPU, the usual case, is spared one more guest entry.
  void complete_pending_io();
  /// Tells the guest it was paused (KVM_KVMCLOCK_CTRL), so its soft-lockup watchdog does
  /// not count the pause. False when the guest has no kvmclock page (EINVAL).
  bool mark_guest_paused();
  /// KVM_NMI: queues an NMI for this vCPU (a host-injected fault). Empty when KVM took
  /// it, else KVM's refusal in one line. Call between two KVM_RUNs on the owning thread.
  std::string inject_nmi();

 private:
  Fd fd_;
  kvm_run* run_ = nullptr;
  size_t run_size_ = 0;
  uint32_t index_;
  uint32_t apic_id_;
};

}  // namespace ktstr::kvm
