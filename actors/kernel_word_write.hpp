#pragma once
// A guest_write fault as the monitor carries it out on a located kernel: the word at the
// symbol's link-time address plus the KASLR slide is read, stored in one access, and read
// back. Not an actor: the monitor calls it on its thread; the store is handed in (guest
// RAM on a live VM, crafted memory in tests).
#include <cstdint>
#include <functional>

#include "kvm/guest_kernel/guest_kernel.hpp"
#include "messages/fault.hpp"

namespace ktstr::actors {

/// Stores the low `size` bytes of value at a guest-physical address in one access; false
/// when it cannot (not RAM, misaligned).
using PhysicalStore = std::function<bool(uint64_t gpa, uint64_t value, uint32_t size)>;

/// What writing `w` into `kernel` did at at_s: old and new value, or why nothing was stored.
msg::fault_outcome write_kernel_word(const guest_kernel::GuestKernel& kernel, const PhysicalStore& store,
                                     const msg::guest_write& w, double at_s);

}  // namespace ktstr::actors
