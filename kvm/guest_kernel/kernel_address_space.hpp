#pragma once
// A located kernel's virtual addresses (GUEST-KERNEL.md §1.2): the kernel image by its
// physical placement (from _text + slide up to the end of the image area, where the module
// area starts: module addresses are vmalloc'd and are walked), the direct map by page_offset_base, anything else (vmalloc, per-CPU
// page-first chunks) by a page walk from the swapper PGD. Reads are bounds-checked per page,
// so a read spanning pages translates each page.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "kvm/guest_kernel/cpu_sample.hpp"
#include "kvm/guest_kernel/physical_memory.hpp"

namespace ktstr::guest_kernel {

/// KERNEL_IMAGE_SIZE with RANDOMIZE_BASE.
inline constexpr uint64_t kKernelImageSize = 1ull << 30;
/// __START_KERNEL_map: the image area is [this, this + KERNEL_IMAGE_SIZE); modules follow it.
inline constexpr uint64_t kStartKernelMap = 0xffffffff80000000ull;

struct AddressSpaceLayout {
  uint64_t image_va = 0;          ///< _text + slide
  uint64_t image_pa = 0;          ///< pa(_text)
  uint64_t page_offset_base = 0;  ///< 0: no direct-map shortcut (page walks only)
  uint64_t pgd_pa = 0;            ///< swapper PGD (init_top_pgt) or a CR3 root
  bool five_level = false;
};

class KernelAddressSpace {
 public:
  KernelAddressSpace(std::shared_ptr<const PhysicalMemory> memory, AddressSpaceLayout layout);

  const AddressSpaceLayout& layout() const { return layout_; }
  const PhysicalMemory& memory() const { return *memory_; }

  /// Guest-physical address of va, or nullopt (non-canonical, unmapped, not RAM).
  std::optional<uint64_t> translate(uint64_t va) const;
  /// Whether p can be a kernel pointer: canonical upper-half address aligned to `alignment`.
  bool plausible_pointer(uint64_t p, uint64_t alignment) const;

  bool read_bytes(uint64_t va, std::span<uint8_t> out) const;
  Reading read_u32(uint64_t va) const;
  Reading read_u64(uint64_t va) const;
  /// Little-endian unsigned value of `size` (1, 2, 4 or 8) bytes; not ok for other sizes.
  Reading read_uint(uint64_t va, uint32_t size) const;
  /// The printable-ASCII prefix of at most max bytes at va: stops at NUL, at the first
  /// byte outside 0x20..0x7e, or at max. nullopt when the first page is unreadable.
  std::optional<std::string> read_string(uint64_t va, size_t max) const;

 private:
  std::shared_ptr<const PhysicalMemory> memory_;
  AddressSpaceLayout layout_;
};

}  // namespace ktstr::guest_kernel
