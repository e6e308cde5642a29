#pragma once
// Known defects of the machine we run on that the guest must be shielded from.
#include <string>

namespace ktstr::kvm {

struct HostQuirks {
  /// The hypervisor under this host's KVM (CPUID 0x40000000 signature), empty on bare metal.
  std::string outer_hypervisor;
  /// QEMU's TCG does not apply the SVM/VMX XSETBV intercept: a nested guest's XSETBV
  /// changes XCR0 behind our KVM's back (the guest then sees CPUID 0xD sizes that do not
  /// match XCR0, warns, and its XCR0 flips whenever KVM reloads its own idea of it).
  bool xsetbv_not_intercepted = false;
  /// Also TCG: a CPU running nested guest code with interrupts off does not take an
  /// IPI, so a host-side wait on one can hang. Reading the perf counters of a vCPU
  /// thread running on another CPU is such a wait (the kernel IPIs that CPU for them).
  bool ipi_to_guest_may_hang = false;
};

/// Looks at this process's CPUID: which hypervisor, if any, runs the host.
HostQuirks detect_host_quirks();

}  // namespace ktstr::kvm
