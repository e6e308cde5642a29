#include "kvm/memory_layout.hpp"

#include <algorithm>

#include "kvm/error.hpp"
#include "kvm/layout.hpp"

namespace ktstr::kvm {

namespace {
constexpr uint64_t kMiB = 1 << 20;
}

uint64_t MemoryLayout::minimum_mib(uint32_t nodes, uint32_t vcpus) {
  return std::max(kMinMiB, kMinNodeMiB * nodes) + kPerVcpuMiB * vcpus;
}

MemoryLayout::MemoryLayout(uint64_t mib, uint32_t nodes, uint32_t vcpus) : total_(mib * kMiB) {
  const uint64_t min = minimum_mib(nodes, vcpus);
  if (mib < min)
    throw Error(ErrorKind::memory, std::to_string(mib) + " MiB is too small for " + std::to_string(nodes) +
                                       " NUMA node(s) and " + std::to_string(vcpus) + " vCPU(s); need at least " +
                                       std::to_string(min) + " MiB");
  if (mib > kMaxMiB)
    throw Error(ErrorKind::memory, std::to_string(mib) + " MiB is more than the supported " +
                                       std::to_string(kMaxMiB) + " MiB");

  // RAM is [0, hole) then [4 GiB, ...).
  const uint64_t low = std::min(total_, layout::kMmioHoleStart);
  slots_.push_back({0, low, 0});
  if (total_ > low) slots_.push_back({layout::kFourGiB, total_ - low, 0});

  // Walk RAM in address order handing each node its share.
  const uint64_t share = (mib / nodes) * kMiB;
  size_t slot = 0;
  uint64_t offset = 0;  // within slots_[slot]
  for (uint32_t n = 0; n < nodes; ++n) {
    uint64_t want = n + 1 == nodes ? total_ - share * (nodes - 1) : share;
    while (want > 0) {
      const auto& s = slots_[slot];
      uint64_t take = std::min(want, s.size - offset);
      node_ranges_.push_back({s.base + offset, take, n});
      want -= take;
      offset += take;
      if (offset == s.size) ++slot, offset = 0;
    }
  }
}

uint64_t MemoryLayout::low_ram_end() const { return slots_.front().end(); }

std::vector<E820Entry> MemoryLayout::e820() const {
  std::vector<E820Entry> map;
  map.push_back({0, layout::kEbdaStart, kE820Ram});
  map.push_back({layout::kEbdaStart, layout::kHighMemory - layout::kEbdaStart, kE820Reserved});
  map.push_back({layout::kHighMemory, low_ram_end() - layout::kHighMemory, kE820Ram});
  if (slots_.size() > 1) map.push_back({slots_[1].base, slots_[1].size, kE820Ram});
  return map;
}

}  // namespace ktstr::kvm
