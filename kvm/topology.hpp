#pragma once
// The declared CPU topology and where each vCPU sits in it.
//
// Model: every NUMA node is one package (socket) with one die (die id = package id,
// numbered system-wide as Linux 6.12 and AMD's 6.1 report it); a package holds
// llcs/numa_nodes last-level caches, each LLC holds cores_per_llc cores, each core
// threads_per_core SMT threads. APIC IDs are packed bit fields
// [package | llc-in-package | core-in-llc | thread], each field rounded up to a power
// of two, so that every LLC and every package is an aligned APIC ID block: that is
// how Linux derives sharing from CPUID (leaf 0xB/0x1F shifts, 0x4/0x8000001D sharing).
// Logical CPU numbers follow MADT order, which is APIC ID order.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kvm/cpu_list.hpp"

namespace ktstr::kvm {

struct TopologySpec {
  uint32_t numa_nodes = 1;
  uint32_t llcs = 1;           ///< total, across all nodes
  uint32_t cores_per_llc = 2;
  uint32_t threads_per_core = 1;

  /// Parses "N,L,C,T"; nullopt when the text is not four unsigned integers.
  static std::optional<TopologySpec> parse(std::string_view text);
  std::string to_string() const;
  bool operator==(const TopologySpec&) const = default;
};

struct CpuPlacement {
  uint32_t cpu = 0;       ///< Linux logical CPU number
  uint32_t apic_id = 0;
  uint32_t node = 0;      ///< NUMA node, also the package
  uint32_t package = 0;
  uint32_t die = 0;       ///< one die per package, numbered system-wide (= package)
  uint32_t llc = 0;       ///< global LLC index
  uint32_t core = 0;      ///< global core index
  uint32_t core_id = 0;   ///< what Linux reports as topology/core_id (package-relative)
  uint32_t thread = 0;    ///< SMT thread within its core
};

class Topology {
 public:
  static constexpr uint32_t kMaxVcpus = 128;
  static constexpr uint32_t kMaxApicId = 254;  ///< xAPIC broadcast is 255

  /// Validates the spec; throws Error{topology} or Error{too_many_vcpus}.
  explicit Topology(TopologySpec spec);

  const TopologySpec& spec() const { return spec_; }
  uint32_t cpu_count() const { return static_cast<uint32_t>(cpus_.size()); }
  uint32_t packages() const { return spec_.numa_nodes; }
  uint32_t llcs_per_package() const { return spec_.llcs / spec_.numa_nodes; }
  uint32_t cores_per_package() const { return llcs_per_package() * spec_.cores_per_llc; }
  const std::vector<CpuPlacement>& cpus() const { return cpus_; }
  const CpuPlacement& cpu(uint32_t index) const { return cpus_.at(index); }

  // APIC ID field widths (bits).
  uint32_t thread_bits() const { return thread_bits_; }
  uint32_t core_bits() const { return core_bits_; }
  uint32_t llc_bits() const { return llc_bits_; }
  /// APIC ID bits below the LLC field: CPUs sharing an LLC differ only here.
  uint32_t llc_shift() const { return thread_bits_ + core_bits_; }
  /// APIC ID bits below the package field.
  uint32_t package_shift() const { return thread_bits_ + core_bits_ + llc_bits_; }
  uint32_t max_apic_id() const;

  std::vector<uint32_t> thread_siblings(uint32_t cpu) const;
  std::vector<uint32_t> llc_cpus(uint32_t cpu) const;
  std::vector<uint32_t> node_cpus(uint32_t node) const;

 private:
  TopologySpec spec_;
  uint32_t thread_bits_ = 0, core_bits_ = 0, llc_bits_ = 0;
  std::vector<CpuPlacement> cpus_;
};

/// Smallest b with (1 << b) >= n.
uint32_t order_base_2(uint32_t n);

/// "0-3,6" style, as in /sys cpu lists. Input must be sorted.
std::string format_cpu_list(const std::vector<uint32_t>& cpus);
// Reading a cpu list: parse_cpu_list in kvm/cpu_list.hpp.

}  // namespace ktstr::kvm
