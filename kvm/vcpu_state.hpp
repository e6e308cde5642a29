#pragma once
// What the harness reads of a vCPU to record where it stood (a freeze, the guest's death):
// an interface the Vcpu implements, so the capture is tested on a fake, and the decoding
// of what KVM hands back (MP state names, the LAPIC's ID register).
#include <linux/kvm.h>

#include <cstdint>

namespace ktstr::kvm {

/// Every read throws Error{kvm} when KVM refuses it. Call on the vCPU's own thread only.
class VcpuStateReader {
 public:
  virtual ~VcpuStateReader() = default;
  virtual uint32_t index() const = 0;
  virtual kvm_regs regs() const = 0;
  virtual kvm_sregs sregs() const = 0;
  virtual kvm_vcpu_events vcpu_events() const = 0;
  /// KVM_GET_MP_STATE: runnable, halted, waiting for INIT or SIPI...
  virtual kvm_mp_state mp_state() const = 0;
  /// KVM_GET_LAPIC: the local APIC's register page.
  virtual kvm_lapic_state lapic() const = 0;
};

/// "runnable", "uninitialized", "init-received", "halted", "sipi-received", "stopped",
/// "check-stop", "operating", "load", "ap-reset-hold", "suspended"; "unknown" otherwise.
const char* mp_state_name(uint32_t mp_state);

/// The APIC ID from KVM_GET_LAPIC: the ID register (offset 0x20), bits 24-31. KVM keeps
/// that layout in x2APIC mode too unless KVM_CAP_X2APIC_API asks for 32-bit IDs, which
/// this VMM does not.
uint32_t lapic_id(const kvm_lapic_state& lapic);

}  // namespace ktstr::kvm
