#pragma once
// x86_64 page walks over guest RAM (GUEST-KERNEL.md §1.5). The tables are read from the
// guest, so every entry is untrusted: a read that leaves RAM, an absent entry or a reserved
// large-page bit ends the walk with nullopt, never more than one read per level.
#include <cstdint>
#include <optional>

#include "kvm/guest_kernel/physical_memory.hpp"

namespace ktstr::guest_kernel {

/// Address bits of a table pointer or 4 KiB leaf (PTE_PFN_MASK, bits 51:12).
inline constexpr uint64_t kPageFrameMask = 0x000FFFFFFFFFF000ull;
/// Address bits of a 2 MiB leaf (bit 12 is PAT, not an address bit).
inline constexpr uint64_t kLargePageFrameMask = 0x000FFFFFFFE00000ull;
/// Address bits of a 1 GiB leaf.
inline constexpr uint64_t kHugePageFrameMask = 0x000FFFFFC0000000ull;
inline constexpr uint64_t kPagePresent = 1ull << 0;
inline constexpr uint64_t kPageLarge = 1ull << 7;  ///< PS: a leaf at PUD or PMD level
inline constexpr uint64_t kPageSize = 4096;

/// Whether va is canonical for 4-level (bits 63:47 equal) or 5-level (bits 63:56 equal) paging.
bool canonical(uint64_t va, bool five_level);

/// Physical address of the top-level table a CR3 value points at: the PCID (bits 11:0),
/// NOFLUSH (bit 63) and the PTI user-PGD bit (bit 12) are cleared, so a vCPU caught in user
/// mode under PTI walks the kernel PGD, which maps the direct map.
uint64_t page_table_root(uint64_t cr3);

/// Guest-physical address va maps to under the tables at root_table_pa, or nullopt when it
/// is non-canonical, not present, or a table is unreadable.
std::optional<uint64_t> walk(const PhysicalMemory& memory, uint64_t root_table_pa, uint64_t va, bool five_level);

}  // namespace ktstr::guest_kernel
