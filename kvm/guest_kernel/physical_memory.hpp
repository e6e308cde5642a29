#pragma once
// What the guest-kernel readers need of guest RAM: a bounds-checked copy by guest-physical
// address. kvm::GuestMemory provides it on a live VM; tests provide crafted images.
#include <cstdint>
#include <span>

namespace ktstr::guest_kernel {

class PhysicalMemory {
 public:
  virtual ~PhysicalMemory() = default;
  /// Copies [gpa, gpa + out.size()) into out; false (and nothing promised about out)
  /// when any byte of the range is not guest RAM.
  virtual bool read(uint64_t gpa, std::span<uint8_t> out) const = 0;
};

}  // namespace ktstr::guest_kernel
