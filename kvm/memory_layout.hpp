#pragma once
// Guest RAM: how the requested size is split into KVM memory slots around the MMIO
// hole, which NUMA node owns which range, and the e820 map the kernel is given.
#include <cstdint>
#include <vector>

namespace ktstr::kvm {

struct MemoryRange {
  uint64_t base = 0;   ///< guest-physical
  uint64_t size = 0;
  uint32_t node = 0;   ///< NUMA node (proximity domain)
  uint64_t end() const { return base + size; }
};

struct E820Entry {
  uint64_t addr = 0;
  uint64_t size = 0;
  uint32_t type = 0;
};
constexpr uint32_t kE820Ram = 1;
constexpr uint32_t kE820Reserved = 2;

class MemoryLayout {
 public:
  static constexpr uint64_t kMinNodeMiB = 64;
  static constexpr uint64_t kMinMiB = 128;
  static constexpr uint64_t kPerVcpuMiB = 2;
  static constexpr uint64_t kMaxMiB = 1 << 20;

  /// Minimum memory for a guest with this many nodes and vCPUs.
  static uint64_t minimum_mib(uint32_t nodes, uint32_t vcpus);

  /// Splits mib MiB evenly over nodes (whole MiB, the last node takes the rest);
  /// throws Error{memory} when below minimum_mib or above kMaxMiB.
  MemoryLayout(uint64_t mib, uint32_t nodes, uint32_t vcpus);

  uint64_t total_bytes() const { return total_; }
  /// Contiguous guest-physical RAM blocks (one per KVM memory slot).
  const std::vector<MemoryRange>& slots() const { return slots_; }
  /// RAM per NUMA node (a node may own more than one range, around the hole).
  const std::vector<MemoryRange>& node_ranges() const { return node_ranges_; }
  /// The e820 map given to the kernel.
  std::vector<E820Entry> e820() const;
  /// Highest RAM address below the MMIO hole (exclusive).
  uint64_t low_ram_end() const;

 private:
  uint64_t total_ = 0;
  std::vector<MemoryRange> slots_;
  std::vector<MemoryRange> node_ranges_;
};

}  // namespace ktstr::kvm
