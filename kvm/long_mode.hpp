#pragma once
// What a vCPU needs to start in 64-bit long mode, shared by the kernel's direct boot
// (boot.cpp) and the host probe's guest (host_probe.cpp): control register and EFER
// bits, page-table entry flags, flat GDT descriptors and the matching KVM segments.
#include <linux/kvm.h>

#include <cstdint>

namespace ktstr::kvm::long_mode {

inline constexpr uint64_t kCr0Pe = 1ULL << 0, kCr0Et = 1ULL << 4, kCr0Ne = 1ULL << 5, kCr0Pg = 1ULL << 31;
inline constexpr uint64_t kCr4Pae = 1ULL << 5;
inline constexpr uint64_t kEferLme = 1ULL << 8, kEferLma = 1ULL << 10;
inline constexpr uint64_t kPtePresentRw = 0x3, kPtePageSize = 0x80;

inline constexpr uint64_t kGdtCode64 = 0x00AF9B000000FFFFULL;  ///< 64-bit code, present, DPL 0
inline constexpr uint64_t kGdtData = 0x00CF93000000FFFFULL;    ///< data, 4 GiB, writable

/// A flat segment (base 0, 4 GiB, present, DPL 0) as KVM_SET_SREGS takes it; `code64`
/// makes it a 64-bit code segment (L = 1, D = 0), otherwise a 32-bit one (D = 1).
inline kvm_segment flat_segment(uint16_t selector, uint8_t type, bool code64) {
  kvm_segment s{};
  s.base = 0;
  s.limit = 0xFFFFFFFF;
  s.selector = selector;
  s.type = type;
  s.present = 1;
  s.dpl = 0;
  s.s = 1;
  s.l = code64 ? 1 : 0;
  s.db = code64 ? 0 : 1;
  s.g = 1;
  return s;
}

}  // namespace ktstr::kvm::long_mode
