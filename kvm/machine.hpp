#pragma once
// A whole guest machine, assembled and ready to run: VM, RAM with kernel, initramfs,
// ACPI tables and page tables loaded, legacy devices, and configured vCPUs waiting to
// be handed to the threads that will run them. No threads are started here.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kvm/boot.hpp"
#include "kvm/bzimage.hpp"
#include "kvm/guest_memory.hpp"
#include "kvm/io_bus.hpp"
#include "kvm/machine_events.hpp"
#include "kvm/memory_layout.hpp"
#include "kvm/serial.hpp"
#include "kvm/system.hpp"
#include "kvm/topology.hpp"
#include "kvm/vcpu.hpp"
#include "kvm/vm.hpp"

namespace ktstr::kvm {

struct MachineConfig {
  std::filesystem::path kernel;
  std::vector<uint8_t> initrd;
  std::string cmdline;
  TopologySpec topology;
  uint64_t memory_mib = 512;
  std::string kvm_device = "/dev/kvm";
};

/// Everything about the request that can be checked without KVM, in the order a user
/// wants to hear about it. Throws Error with the matching kind.
struct ValidatedConfig {
  Topology topology;
  MemoryLayout memory;
  BzImage kernel;
};
ValidatedConfig validate(const MachineConfig& config);

class Machine {
 public:
  Machine(const MachineConfig& config, Uart16550::Sink com1, Uart16550::Sink com2);

  const Topology& topology() const { return inputs_.topology; }
  const MemoryLayout& memory_layout() const { return inputs_.memory; }
  const BootImage& boot_image() const { return boot_; }
  GuestMemory& memory() { return *memory_; }
  IoBus& bus() { return *bus_; }
  MachineEvents& events() { return events_; }
  Uart16550& com1() { return *com1_; }
  Uart16550& com2() { return *com2_; }
  const Vm& vm() const { return *vm_; }

  /// The configured vCPUs, to be moved into their owning threads (once).
  std::vector<std::unique_ptr<Vcpu>> take_vcpus() { return std::move(vcpus_); }

 private:
  ValidatedConfig inputs_;
  std::unique_ptr<Kvm> kvm_;
  std::unique_ptr<Vm> vm_;
  std::unique_ptr<GuestMemory> memory_;
  MachineEvents events_;
  std::unique_ptr<Uart16550> com1_, com2_;
  std::unique_ptr<IoBus> bus_;
  BootImage boot_;
  std::vector<std::unique_ptr<Vcpu>> vcpus_;
};

}  // namespace ktstr::kvm
