#include "kvm/guest_kernel/page_walk.hpp"

#include <array>
#include <cstring>

namespace ktstr::guest_kernel {
namespace {

std::optional<uint64_t> read_entry(const PhysicalMemory& memory, uint64_t table_pa, unsigned index) {
  std::array<uint8_t, 8> bytes{};
  if (!memory.read(table_pa + uint64_t{index} * 8, bytes)) return std::nullopt;
  uint64_t entry = 0;
  std::memcpy(&entry, bytes.data(), sizeof entry);
  return entry;
}

}  // namespace

bool canonical(uint64_t va, bool five_level) {
  const unsigned top = five_level ? 56 : 47;  // highest implemented bit; all above must equal it
  const auto high = static_cast<int64_t>(va) >> top;
  return high == 0 || high == -1;
}

uint64_t page_table_root(uint64_t cr3) {
  constexpr uint64_t kPtiUserPgd = 1ull << 12;
  return cr3 & kPageFrameMask & ~kPtiUserPgd;
}

std::optional<uint64_t> walk(const PhysicalMemory& memory, uint64_t root_table_pa, uint64_t va, bool five_level) {
  if (!canonical(va, five_level)) return std::nullopt;
  uint64_t table = root_table_pa & kPageFrameMask;
  for (int level = five_level ? 5 : 4; level >= 1; --level) {
    const unsigned shift = 12 + 9 * static_cast<unsigned>(level - 1);
    const auto entry = read_entry(memory, table, static_cast<unsigned>((va >> shift) & 511));
    if (!entry || !(*entry & kPagePresent)) return std::nullopt;
    if (level == 1) return (*entry & kPageFrameMask) | (va & 0xFFF);
    if (*entry & kPageLarge) {
      if (level == 3) return (*entry & kHugePageFrameMask) | (va & 0x3FFFFFFF);
      if (level == 2) return (*entry & kLargePageFrameMask) | (va & 0x1FFFFF);
      return std::nullopt;  // PS is reserved at PGD/P4D level
    }
    table = *entry & kPageFrameMask;
  }
  return std::nullopt;
}

}  // namespace ktstr::guest_kernel
