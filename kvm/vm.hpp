#pragma once
// A KVM virtual machine: in-kernel irqchip (PIC + IOAPIC + LAPICs) and PIT, guest RAM.
#include <cstdint>

#include "kvm/fd.hpp"
#include "kvm/guest_memory.hpp"
#include "kvm/system.hpp"

namespace ktstr::kvm {

class Vm {
 public:
  explicit Vm(const Kvm& kvm);

  int fd() const { return fd_.get(); }
  /// Registers every slot of guest RAM with KVM.
  void add_memory(const GuestMemory& memory);
  /// Drives an ISA IRQ line of the in-kernel PIC/IOAPIC.
  void irq_line(uint32_t irq, bool level) const;

  /// The guest's kvmclock (KVM_GET_CLOCK), read when a freeze begins...
  kvm_clock_data clock() const;
  /// ...and put back at thaw (KVM_SET_CLOCK), so frozen time never happened for the guest.
  void set_clock(const kvm_clock_data& clock) const;

 private:
  Fd fd_;
};

}  // namespace ktstr::kvm
