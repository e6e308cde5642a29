#include "kvm/machine.hpp"

#include <spdlog/spdlog.h>

#include "kvm/acpi.hpp"
#include "kvm/cpuid.hpp"
#include "kvm/host_quirks.hpp"
#include "kvm/layout.hpp"

namespace ktstr::kvm {

ValidatedConfig validate(const MachineConfig& config) {
  Topology topology(config.topology);
  MemoryLayout memory(config.memory_mib, topology.packages(), topology.cpu_count());
  BzImage kernel = BzImage::load(config.kernel);
  check_cmdline_fits(kernel, config.cmdline);
  return {std::move(topology), std::move(memory), std::move(kernel)};
}

Machine::Machine(const MachineConfig& config, Uart16550::Sink com1, Uart16550::Sink com2)
    : inputs_(validate(config)) {
  kvm_ = std::make_unique<Kvm>(config.kvm_device.c_str());
  vm_ = std::make_unique<Vm>(*kvm_);
  memory_ = std::make_unique<GuestMemory>(inputs_.memory);
  vm_->add_memory(*memory_);

  const Vm* vm = vm_.get();
  com1_ = std::make_unique<Uart16550>([vm](bool level) { vm->irq_line(layout::kCom1Irq, level); }, std::move(com1));
  com2_ = std::make_unique<Uart16550>([vm](bool level) { vm->irq_line(layout::kCom2Irq, level); }, std::move(com2));
  bus_ = std::make_unique<IoBus>(*com1_, *com2_, events_);

  const auto acpi = build_acpi_tables(inputs_.topology, inputs_.memory.node_ranges());
  memory_->write(acpi.guest_address, acpi.bytes);
  write_long_mode_tables(*memory_);
  boot_ = load_linux(*memory_, inputs_.memory, inputs_.kernel, config.cmdline, config.initrd, acpi.rsdp_address);

  const auto msrs = boot_msrs();
  const HostQuirks quirks = detect_host_quirks();
  if (quirks.xsetbv_not_intercepted)
    spdlog::info("this host's KVM runs under QEMU TCG ({}), which lets a nested guest's XSETBV through: "
                 "XSAVE/AVX hidden from the guest", quirks.outer_hypervisor);
  for (const auto& cpu : inputs_.topology.cpus()) {
    auto vcpu = std::make_unique<Vcpu>(*kvm_, *vm_, cpu.cpu, cpu.apic_id);
    auto cpuid = cpuid_for_vcpu(kvm_->supported_cpuid(), inputs_.topology, cpu.cpu);
    if (quirks.xsetbv_not_intercepted) hide_xsave(cpuid);
    vcpu->set_cpuid(cpuid);
    vcpu->set_msrs(msrs);
    vcpu->setup_lapic_lints();
    if (cpu.cpu == 0) {  // the BSP enters the kernel; APs wait for INIT/SIPI in the LAPIC
      vcpu->set_sregs(long_mode_sregs(vcpu->sregs()));
      vcpu->set_regs(boot_regs(boot_));
      vcpu->set_fpu(boot_fpu());
    }
    vcpus_.push_back(std::move(vcpu));
  }
  spdlog::debug("machine: {} vCPUs, {} MiB, initrd {} bytes at {:#x}, entry {:#x}", vcpus_.size(),
                inputs_.memory.total_bytes() >> 20, boot_.initrd_size, boot_.initrd_gpa, boot_.entry);
}

}  // namespace ktstr::kvm
