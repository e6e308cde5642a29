#pragma once
// The CPUID table each vCPU gets: KVM's supported table with the topology leaves
// rewritten so that the guest kernel derives exactly the declared topology (package,
// core ids, SMT siblings, LLC groups) from them. See cpuid.cpp for which field drives
// which value in Linux 6.1 and 6.12.
#include <asm/kvm.h>

#include <cstdint>
#include <vector>

#include "kvm/topology.hpp"

namespace ktstr::kvm {

enum class CpuVendor { intel, amd, other };

/// The vendor named by leaf 0 of a CPUID table (other when leaf 0 is missing).
CpuVendor cpuid_vendor(const std::vector<kvm_cpuid_entry2>& entries);

/// The entry for (function, index), or nullptr. Index is ignored for leaves without
/// KVM_CPUID_FLAG_SIGNIFCANT_INDEX.
const kvm_cpuid_entry2* find_cpuid_entry(const std::vector<kvm_cpuid_entry2>& entries, uint32_t function,
                                         uint32_t index = 0);

/// KVM_GET_SUPPORTED_CPUID's table patched for logical CPU `cpu` of `topology`
/// (leaves 0x0, 0x1, 0x4, 0xB, 0x1F and, for AMD, 0x80000000/1/6/8/1D/1E); every other
/// leaf, the KVM paravirt leaves included, is passed through. Sorted by (function, index).
std::vector<kvm_cpuid_entry2> cpuid_for_vcpu(const std::vector<kvm_cpuid_entry2>& supported,
                                             const Topology& topology, uint32_t cpu);

/// Takes XSAVE and everything that needs it (AVX, AVX2, AVX-512, FMA, F16C, leaf 0xD)
/// away from the guest, which then manages FPU state with FXSAVE and never writes XCR0.
/// For hosts whose XSETBV is not intercepted (HostQuirks::xsetbv_not_intercepted).
void hide_xsave(std::vector<kvm_cpuid_entry2>& entries);

}  // namespace ktstr::kvm
