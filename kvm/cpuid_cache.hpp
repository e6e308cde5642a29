#pragma once
// The deterministic cache leaves (Intel 0x4, AMD 0x8000001D, same register layout):
// cache geometry comes from the host, which CPUs share each cache from the declared
// topology.
#include <asm/kvm.h>

#include <array>
#include <cstdint>
#include <vector>

#include "kvm/topology.hpp"

namespace ktstr::kvm {

constexpr uint32_t kCacheLeafIntel = 0x4;
constexpr uint32_t kCacheLeafAmd = 0x8000001D;

enum CacheType : uint32_t { kCacheData = 1, kCacheInstruction = 2, kCacheUnified = 3 };

/// One cache as a deterministic cache subleaf describes it, minus the sharing fields.
struct CacheGeometry {
  uint32_t level = 0;
  uint32_t type = 0;       ///< CacheType
  uint32_t eax_flags = 0;  ///< EAX[9:8]: self-initialising, fully associative
  uint32_t ebx = 0;        ///< ways - 1 [31:22], partitions - 1 [21:12], line size - 1 [11:0]
  uint32_t ecx = 0;        ///< sets - 1
  uint32_t edx = 0;        ///< WBINVD scope, inclusive, complex indexing

  uint32_t ways() const { return (ebx >> 22) + 1; }
  uint32_t line_size() const { return (ebx & 0xfff) + 1; }
  uint64_t size_bytes() const;
};

/// L1d, L1i, L2, L3 (in this order), each from `leaf`'s subleaves when the host
/// describes it there, otherwise a plausible default.
std::array<CacheGeometry, 4> cache_hierarchy(const std::vector<kvm_cpuid_entry2>& supported, uint32_t leaf);

/// Subleaves 0..4 of `leaf` for CPUs of `topology`: the four caches, then the null
/// subleaf that ends the kernel's enumeration.
std::vector<kvm_cpuid_entry2> cache_leaf_entries(uint32_t leaf, const std::array<CacheGeometry, 4>& caches,
                                                 const Topology& topology);

/// CPUID 0x80000006 EDX (AMD's legacy L3 descriptor) for `l3`.
uint32_t amd_legacy_l3_descriptor(const CacheGeometry& l3);

}  // namespace ktstr::kvm
