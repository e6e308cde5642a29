#include "kvm/vm.hpp"

#include <sys/ioctl.h>

#include "kvm/error.hpp"
#include "kvm/layout.hpp"

namespace ktstr::kvm {

Vm::Vm(const Kvm& kvm) {
  fd_.reset(::ioctl(kvm.fd(), KVM_CREATE_VM, 0));
  if (!fd_) throw_errno(ErrorKind::kvm, "KVM_CREATE_VM");
  // Intel VMX needs these two pages below 4 GiB for real-mode emulation; harmless on AMD.
  if (::ioctl(fd(), KVM_SET_TSS_ADDR, layout::kTssAddr) < 0) throw_errno(ErrorKind::kvm, "KVM_SET_TSS_ADDR");
  uint64_t identity = layout::kIdentityMapAddr;
  if (::ioctl(fd(), KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0)
    throw_errno(ErrorKind::kvm, "KVM_SET_IDENTITY_MAP_ADDR");
  if (::ioctl(fd(), KVM_CREATE_IRQCHIP, 0) < 0) throw_errno(ErrorKind::kvm, "KVM_CREATE_IRQCHIP");
  kvm_pit_config pit{};
  pit.flags = KVM_PIT_SPEAKER_DUMMY;  // port 0x61 handled in-kernel
  if (::ioctl(fd(), KVM_CREATE_PIT2, &pit) < 0) throw_errno(ErrorKind::kvm, "KVM_CREATE_PIT2");
}

void Vm::add_memory(const GuestMemory& memory) {
  uint32_t slot = 0;
  for (const auto& s : memory.slots()) {
    kvm_userspace_memory_region region{};
    region.slot = slot++;
    region.guest_phys_addr = s.gpa;
    region.memory_size = s.size;
    region.userspace_addr = reinterpret_cast<uint64_t>(s.host);
    if (::ioctl(fd(), KVM_SET_USER_MEMORY_REGION, &region) < 0)
      throw_errno(ErrorKind::kvm, "KVM_SET_USER_MEMORY_REGION");
  }
}

void Vm::irq_line(uint32_t irq, bool level) const {
  kvm_irq_level line{};
  line.irq = irq;
  line.level = level ? 1 : 0;
  // A failure here means the VM is being torn down; nothing useful to do in a device.
  (void)::ioctl(fd(), KVM_IRQ_LINE, &line);
}

kvm_clock_data Vm::clock() const {
  kvm_clock_data data{};
  if (::ioctl(fd(), KVM_GET_CLOCK, &data) < 0) throw_errno(ErrorKind::kvm, "KVM_GET_CLOCK");
  return data;
}

void Vm::set_clock(const kvm_clock_data& clock) const {
  kvm_clock_data data{};
  data.clock = clock.clock;  // flags must be 0 (or KVM_CLOCK_REALTIME with realtime set)
  if (::ioctl(fd(), KVM_SET_CLOCK, &data) < 0) throw_errno(ErrorKind::kvm, "KVM_SET_CLOCK");
}

}  // namespace ktstr::kvm
