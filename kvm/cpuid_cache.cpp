#include "kvm/cpuid_cache.hpp"

#include <algorithm>

namespace ktstr::kvm {

namespace {

constexpr uint32_t kSelfInitialising = 1u << 8;
constexpr uint32_t kMaxSubleaves = 64;  // bounds the scan of a host table with no null subleaf

CacheGeometry geometry(uint32_t level, uint32_t type, uint32_t size, uint32_t ways, uint32_t line) {
  const uint32_t sets = size / (ways * line);
  return {level, type, kSelfInitialising, ((ways - 1) << 22) | (line - 1), sets - 1, 0};
}

// What the kernel shows when the host describes no such cache: a common x86 server
// hierarchy, so sizes in sysfs are plausible rather than zero.
const std::array<CacheGeometry, 4> kDefaultCaches = {
    geometry(1, kCacheData, 32 << 10, 8, 64),
    geometry(1, kCacheInstruction, 32 << 10, 8, 64),
    geometry(2, kCacheUnified, 512 << 10, 8, 64),
    geometry(3, kCacheUnified, 16 << 20, 16, 64),
};

// Fields of the deterministic cache leaves' EAX.
uint32_t cache_type(uint32_t eax) { return eax & 0x1f; }
uint32_t cache_level(uint32_t eax) { return (eax >> 5) & 0x7; }

}  // namespace

uint64_t CacheGeometry::size_bytes() const {
  return uint64_t{ways()} * (((ebx >> 12) & 0x3ff) + 1) * line_size() * (uint64_t{ecx} + 1);
}

std::array<CacheGeometry, 4> cache_hierarchy(const std::vector<kvm_cpuid_entry2>& supported, uint32_t leaf) {
  auto caches = kDefaultCaches;
  for (auto& cache : caches) {
    for (uint32_t index = 0; index < kMaxSubleaves; ++index) {
      auto it = std::find_if(supported.begin(), supported.end(), [&](const kvm_cpuid_entry2& e) {
        return e.function == leaf && e.index == index;
      });
      if (it == supported.end() || cache_type(it->eax) == 0) break;
      if (cache_level(it->eax) == cache.level && cache_type(it->eax) == cache.type) {
        cache = {cache.level, cache.type, it->eax & (3u << 8), it->ebx, it->ecx, it->edx};
        break;
      }
    }
  }
  return caches;
}

std::vector<kvm_cpuid_entry2> cache_leaf_entries(uint32_t leaf, const std::array<CacheGeometry, 4>& caches,
                                                 const Topology& topology) {
  // EAX[25:14] is "addressable IDs sharing this cache" - 1, and both kernels only take
  // its order: cache id = APIC ID >> order (Intel, and AMD's llc_id from the last
  // subleaf), or the CPUs whose APIC IDs fall in the same aligned block of that size
  // (AMD L1/L2 shared_cpu_map). So it must be the size of the aligned APIC ID block
  // of the sharing unit, not a CPU count: 1 << thread_bits for a core's caches,
  // 1 << llc_shift for the LLC. For AMD, subleaf 3 must be the L3: cacheinfo.c takes
  // the L3's shared_cpu_map from the llc_id match instead, and the llc_id from the
  // last subleaf.
  // EAX[31:26] (Intel only, reserved on AMD) is "addressable core IDs per package" - 1;
  // only the legacy topology parsers read it, we fill it for completeness.
  const uint32_t core_ids = 1u << (topology.package_shift() - topology.thread_bits());
  const uint32_t cores_field = leaf == kCacheLeafIntel ? std::min(core_ids - 1, 63u) << 26 : 0;

  std::vector<kvm_cpuid_entry2> entries;
  for (uint32_t index = 0; index < caches.size(); ++index) {
    const auto& cache = caches[index];
    const uint32_t sharing_bits = cache.level == 3 ? topology.llc_shift() : topology.thread_bits();
    kvm_cpuid_entry2 e{};
    e.function = leaf;
    e.index = index;
    e.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
    e.eax = cache.type | (cache.level << 5) | cache.eax_flags | (((1u << sharing_bits) - 1) << 14) | cores_field;
    e.ebx = cache.ebx;
    e.ecx = cache.ecx;
    e.edx = cache.edx;
    entries.push_back(e);
  }
  kvm_cpuid_entry2 end{};
  end.function = leaf;
  end.index = static_cast<uint32_t>(caches.size());
  end.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
  entries.push_back(end);
  return entries;
}

uint32_t amd_legacy_l3_descriptor(const CacheGeometry& l3) {
  // AMD's 4-bit associativity code; 0x9 means "see leaf 0x8000001D", which is where
  // the kernel looks anyway once TOPOEXT is set.
  uint32_t assoc = 0x9;
  switch (l3.ways()) {
    case 1: assoc = 0x1; break;
    case 2: assoc = 0x2; break;
    case 4: assoc = 0x4; break;
    case 8: assoc = 0x6; break;
    case 16: assoc = 0x8; break;
    case 32: assoc = 0xA; break;
    case 64: assoc = 0xC; break;
    case 128: assoc = 0xE; break;
  }
  const uint64_t units = std::max<uint64_t>(1, l3.size_bytes() / (512 << 10));  // EDX[31:18] counts 512 KiB
  return (static_cast<uint32_t>(std::min<uint64_t>(units, 0x3fff)) << 18) | (assoc << 12) | (1u << 8) |
         (l3.line_size() & 0xff);
}

}  // namespace ktstr::kvm
