#pragma once
// Guest RAM: anonymous host mappings, one per KVM memory slot, with bounds-checked
// access by guest-physical address. Guest addresses are untrusted: every access
// checks that the whole range lies inside one slot.
#include <cstdint>
#include <span>
#include <vector>

#include "kvm/memory_layout.hpp"

namespace ktstr::kvm {

class GuestMemory {
 public:
  explicit GuestMemory(const MemoryLayout& layout);
  ~GuestMemory();
  GuestMemory(const GuestMemory&) = delete;
  GuestMemory& operator=(const GuestMemory&) = delete;

  struct Slot {
    uint64_t gpa;
    uint64_t size;
    uint8_t* host;
  };
  const std::vector<Slot>& slots() const { return slots_; }

  /// Host pointer for [gpa, gpa+len), or nullptr if it is not entirely RAM.
  uint8_t* host_ptr(uint64_t gpa, uint64_t len) const;
  /// Copies into guest RAM; throws Error{system} when out of range.
  void write(uint64_t gpa, std::span<const uint8_t> bytes);
  template <typename T>
  void write_obj(uint64_t gpa, const T& value) {
    // SAFETY: T is a trivially-copyable boot/ACPI structure; we copy its object bytes.
    write(gpa, {reinterpret_cast<const uint8_t*>(&value), sizeof(T)});
  }
  /// Stores the low `size` bytes (1, 2, 4 or 8) of value at gpa, little-endian, as one
  /// store the guest sees whole (gpa aligned to size). False when not RAM, misaligned or
  /// another size.
  bool store(uint64_t gpa, uint64_t value, uint32_t size);
  /// Copies out of guest RAM; false when out of range.
  bool read(uint64_t gpa, std::span<uint8_t> out) const;

 private:
  std::vector<Slot> slots_;
};

}  // namespace ktstr::kvm
