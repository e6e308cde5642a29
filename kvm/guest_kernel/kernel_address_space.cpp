#include "kvm/guest_kernel/kernel_address_space.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "kvm/guest_kernel/page_walk.hpp"

namespace ktstr::guest_kernel {
namespace {

/// The direct map spans at most 64 TiB (4-level) or 32 PiB (5-level) (mm.rst).
uint64_t direct_map_span(bool five_level) { return five_level ? (32ull << 50) : (64ull << 40); }

bool is_ram(const PhysicalMemory& memory, uint64_t pa) {
  std::array<uint8_t, 1> probe{};
  return memory.read(pa, probe);
}

}  // namespace

KernelAddressSpace::KernelAddressSpace(std::shared_ptr<const PhysicalMemory> memory, AddressSpaceLayout layout)
    : memory_(std::move(memory)), layout_(layout) {}

std::optional<uint64_t> KernelAddressSpace::translate(uint64_t va) const {
  if (!canonical(va, layout_.five_level)) return std::nullopt;
  if (va >= layout_.image_va && va < kStartKernelMap + kKernelImageSize) {
    const uint64_t pa = va - layout_.image_va + layout_.image_pa;
    if (is_ram(*memory_, pa)) return pa;
  }
  if (layout_.page_offset_base != 0 && va >= layout_.page_offset_base &&
      va - layout_.page_offset_base < direct_map_span(layout_.five_level)) {
    const uint64_t pa = va - layout_.page_offset_base;
    if (is_ram(*memory_, pa)) return pa;
  }
  const auto pa = walk(*memory_, layout_.pgd_pa, va, layout_.five_level);
  if (pa && is_ram(*memory_, *pa)) return pa;
  return std::nullopt;
}

bool KernelAddressSpace::plausible_pointer(uint64_t p, uint64_t alignment) const {
  const uint64_t lowest_kernel = layout_.five_level ? 0xFF00000000000000ull : 0xFFFF800000000000ull;
  return p >= lowest_kernel && canonical(p, layout_.five_level) && alignment != 0 && p % alignment == 0;
}

bool KernelAddressSpace::read_bytes(uint64_t va, std::span<uint8_t> out) const {
  size_t done = 0;
  while (done < out.size()) {
    const uint64_t at = va + done;
    if (at < va) return false;  // wrapped past the top of the address space
    const size_t chunk = std::min<size_t>(out.size() - done, kPageSize - (at & (kPageSize - 1)));
    const auto pa = translate(at);
    if (!pa || !memory_->read(*pa, out.subspan(done, chunk))) return false;
    done += chunk;
  }
  return true;
}

Reading KernelAddressSpace::read_uint(uint64_t va, uint32_t size) const {
  if (size != 1 && size != 2 && size != 4 && size != 8) return {};
  std::array<uint8_t, 8> bytes{};
  if (!read_bytes(va, std::span(bytes).first(size))) return {};
  uint64_t value = 0;
  for (uint32_t i = 0; i < size; ++i) value |= uint64_t{bytes[i]} << (8 * i);
  return {value, true};
}

Reading KernelAddressSpace::read_u32(uint64_t va) const { return read_uint(va, 4); }
Reading KernelAddressSpace::read_u64(uint64_t va) const { return read_uint(va, 8); }

std::optional<std::string> KernelAddressSpace::read_string(uint64_t va, size_t max) const {
  std::string text;
  std::array<uint8_t, kPageSize> page{};
  while (text.size() < max) {
    const uint64_t at = va + text.size();
    const size_t chunk = std::min<size_t>(max - text.size(), kPageSize - (at & (kPageSize - 1)));
    if (!read_bytes(at, std::span(page).first(chunk))) {
      if (text.empty()) return std::nullopt;
      return text;  // the string ran into an unreadable page: keep its readable prefix
    }
    for (size_t i = 0; i < chunk; ++i) {
      if (page[i] < 0x20 || page[i] > 0x7e) return text;
      text.push_back(static_cast<char>(page[i]));
    }
  }
  return text;
}

}  // namespace ktstr::guest_kernel
