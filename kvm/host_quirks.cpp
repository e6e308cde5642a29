#include "kvm/host_quirks.hpp"

#include <cpuid.h>

#include <cstring>

namespace ktstr::kvm {

namespace {

constexpr unsigned kHypervisorBit = 1u << 31;  // CPUID.1:ECX
constexpr unsigned kHypervisorLeaf = 0x40000000;

std::string hypervisor_signature() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & kHypervisorBit)) return {};
  __cpuid(kHypervisorLeaf, eax, ebx, ecx, edx);
  char text[13] = {};
  std::memcpy(text + 0, &ebx, 4);
  std::memcpy(text + 4, &ecx, 4);
  std::memcpy(text + 8, &edx, 4);
  return std::string(text, strnlen(text, 12));
}

}  // namespace

HostQuirks detect_host_quirks() {
  HostQuirks quirks;
  quirks.outer_hypervisor = hypervisor_signature();
  const bool tcg = quirks.outer_hypervisor == "TCGTCGTCGTCG";
  quirks.xsetbv_not_intercepted = tcg;
  quirks.ipi_to_guest_may_hang = tcg;
  return quirks;
}

}  // namespace ktstr::kvm
