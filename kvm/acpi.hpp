#pragma once
// The ACPI tables the guest kernel boots with: how many CPUs and which APIC IDs
// (MADT), which node each CPU and each RAM range belongs to (SRAT, SLIT), and how to
// power off (hardware-reduced FADT, DSDT with \_S5).
#include <cstdint>
#include <vector>

#include "kvm/memory_layout.hpp"
#include "kvm/topology.hpp"

namespace ktstr::kvm {

struct AcpiTables {
  uint64_t guest_address = 0;  ///< where `bytes` go in guest-physical memory (layout::kAcpiBase)
  uint64_t rsdp_address = 0;   ///< guest-physical address of the RSDP (boot_params.acpi_rsdp_addr)
  std::vector<uint8_t> bytes;
};

/// Builds RSDP, XSDT, RSDT, FADT, DSDT, MADT, SRAT and SLIT for copying to
/// layout::kAcpiBase. `node_ranges` is the RAM of every NUMA node (MemoryLayout::
/// node_ranges()). Throws Error{system} if a range names a node the topology lacks or
/// the tables would not fit layout::kAcpiSize.
AcpiTables build_acpi_tables(const Topology& topology, const std::vector<MemoryRange>& node_ranges);

}  // namespace ktstr::kvm
