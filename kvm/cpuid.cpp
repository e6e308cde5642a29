#include "kvm/cpuid.hpp"

#include <algorithm>
#include <cstring>

#include "kvm/cpuid_cache.hpp"

// How Linux turns these leaves into the topology it shows (6.1: topology.c, amd.c,
// common.c, cacheinfo.c, smpboot.c; 6.12: topology_common.c, topology_ext.c,
// topology_amd.c, cacheinfo.c):
//
// - APIC ID, package, core id, SMT siblings: both kernels take them from leaf 0x1F if
//   CPUID.0.EAX >= 0x1F and subleaf 0 is valid, else from leaf 0xB, on Intel and on AMD
//   alike (6.1 AMD: amd_get_topology -> detect_extended_topology when TOPOEXT is set;
//   6.12 AMD: parse_topology_amd -> cpu_parse_topology_ext; 0x80000026 only after 0x1F,
//   and KVM caps the extended range below it anyway). EDX is the x2APIC ID, the SMT
//   subleaf's shift splits thread from core, the last valid subleaf's shift splits core
//   from package: core_id = (apicid & package mask) >> smt shift, which is exactly
//   CpuPlacement::core_id. SMT siblings are CPUs with equal package, die and core_id
//   (6.1 AMD with TOPOEXT also needs equal llc_id, true by construction).
// - die_id: the model has one die per package, numbered system-wide (die_id = package).
//   6.12 computes die_id = apicid >> (shift below DIE), a system-wide number: with one
//   die per package it equals the package id whatever the leaves say. 6.1 reads a DIE
//   subleaf of 0x1F as a package-relative number (0 here), but without 0x1F on AMD it
//   keeps 0x8000001E ECX's node id, which is the package. So AMD tables carry no 0x1F
//   (real AMD parts have none either) and both kernels agree; Intel tables keep 0x1F
//   with its DIE level, and 6.1 on Intel reports die_id 0 (a known difference).
// - x86_max_cores / "cpu cores" (6.1): the CORE subleaf's EBX / the SMT subleaf's EBX,
//   so EBX holds real CPU counts, not APIC ID ranges. smp_num_siblings: SMT EBX (and on
//   AMD first 0x8000001E EBX[15:8] + 1).
// - LLC (llc_id, sched MC domain, index3/shared_cpu_list):
//   Intel: llc_id = apicid with the low order(leaf 4 L3 EAX[25:14] + 1) bits cleared.
//   AMD family >= 0x17: llc_id = apicid >> order(0x8000001D[last subleaf] EAX[25:14] + 1),
//   but only if 0x80000006 EDX != 0 (the "has an L3" test); family 0x17 models <= 0x1F
//   (Zen 1, which QEMU's "EPYC" model reports) hard-code llc_id = apicid >> 3 instead.
//   index3's shared_cpu_map on AMD is the llc_id match; index0..2 are the CPUs whose
//   APIC IDs fall in the same aligned block of EAX[25:14] + 1 IDs (see cpuid_cache.cpp).
// - 6.1 also runs the legacy detect_ht() after the vendor code unless XTOPOLOGY (Intel
//   path) or CmpLegacy is set; on AMD only CmpLegacy stops it from recomputing core ids
//   from leaf 1, so it is set whenever a package has more than one logical CPU.

namespace ktstr::kvm {

namespace {

constexpr uint32_t kLeafVendor = 0x0;
constexpr uint32_t kLeafFeatures = 0x1;
constexpr uint32_t kLeafTopology = 0xB;
constexpr uint32_t kLeafTopologyV2 = 0x1F;
constexpr uint32_t kExtLeafMax = 0x80000000;
constexpr uint32_t kExtLeafFeatures = 0x80000001;
constexpr uint32_t kExtLeafL2L3 = 0x80000006;
constexpr uint32_t kExtLeafSizes = 0x80000008;
constexpr uint32_t kExtLeafAmdTopology = 0x8000001E;

constexpr uint32_t kHtt = 1u << 28;        // leaf 1 EDX
constexpr uint32_t kHypervisor = 1u << 31; // leaf 1 ECX: KVM leaves it to the VMM
constexpr uint32_t kTscDeadline = 1u << 24;
constexpr uint32_t kMtrr = 1u << 12;          // leaf 1 EDX
constexpr uint32_t kLeafKvmFeatures = 0x40000001;
// KVM paravirt features (0x40000001 EAX) the guest may use: the clock (CLOCKSOURCE,
// NOP_IO_DELAY, CLOCKSOURCE2, CLOCKSOURCE_STABLE_BIT).
constexpr uint32_t kKvmFeaturesAllowed = (1u << 0) | (1u << 1) | (1u << 3) | (1u << 24); // leaf 1 ECX: emulated by the in-kernel LAPIC
constexpr uint32_t kCmpLegacy = 1u << 1;   // 0x80000001 ECX
constexpr uint32_t kTopoExt = 1u << 22;    // 0x80000001 ECX

enum TopologyLevel : uint32_t { kLevelInvalid = 0, kLevelSmt = 1, kLevelCore = 2, kLevelDie = 5 };

kvm_cpuid_entry2& entry_for(std::vector<kvm_cpuid_entry2>& entries, uint32_t function) {
  auto it = std::find_if(entries.begin(), entries.end(),
                         [&](const kvm_cpuid_entry2& e) { return e.function == function && e.index == 0; });
  if (it != entries.end()) return *it;
  kvm_cpuid_entry2 e{};
  e.function = function;
  entries.push_back(e);
  return entries.back();
}

void erase_leaf(std::vector<kvm_cpuid_entry2>& entries, uint32_t function) {
  std::erase_if(entries, [&](const kvm_cpuid_entry2& e) { return e.function == function; });
}

void append(std::vector<kvm_cpuid_entry2>& entries, const std::vector<kvm_cpuid_entry2>& more) {
  entries.insert(entries.end(), more.begin(), more.end());
}

uint32_t logical_cpus_per_package(const Topology& topology) {
  return topology.cpu_count() / topology.packages();
}

// Leaf 0xB or 0x1F: SMT, CORE and (0x1F only) DIE subleaves, then the invalid subleaf
// that ends the kernel's scan. Every subleaf, the invalid one too, reports the x2APIC
// ID in EDX and its own index in ECX[7:0], as hardware does.
std::vector<kvm_cpuid_entry2> extended_topology_leaf(uint32_t leaf, const Topology& topology,
                                                     const CpuPlacement& cpu) {
  struct Level {
    TopologyLevel type;
    uint32_t shift, cpus;
  };
  std::vector<Level> levels = {
      {kLevelSmt, topology.thread_bits(), topology.spec().threads_per_core},
      {kLevelCore, topology.package_shift(), logical_cpus_per_package(topology)},
  };
  if (leaf == kLeafTopologyV2) levels.push_back({kLevelDie, topology.package_shift(), logical_cpus_per_package(topology)});
  levels.push_back({kLevelInvalid, 0, 0});

  std::vector<kvm_cpuid_entry2> entries;
  for (uint32_t index = 0; index < levels.size(); ++index) {
    kvm_cpuid_entry2 e{};
    e.function = leaf;
    e.index = index;
    e.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
    e.eax = levels[index].shift;
    e.ebx = levels[index].cpus;
    e.ecx = (levels[index].type << 8) | index;
    e.edx = cpu.apic_id;
    entries.push_back(e);
  }
  return entries;
}

// Leaf 1 EAX: family/model. Zen 1 (family 0x17, models 0x00-0x1F) makes both kernels
// ignore 0x8000001D for the LLC and use APIC ID bit 3 as the CCX boundary, which is
// wrong for any declared LLC size other than 8 APIC IDs. QEMU's "EPYC" CPU model (the
// nested test host) is such a part, so report it as Zen 2 (model 0x31): same family,
// and the Zen 2 code paths only touch MSRs through the fault-tolerant accessors.
// 0x80000001 EAX mirrors the signature on AMD and follows it.
void report_zen1_as_zen2(std::vector<kvm_cpuid_entry2>& entries) {
  const uint32_t signature = entry_for(entries, kLeafFeatures).eax;
  const uint32_t base_family = (signature >> 8) & 0xf;
  const uint32_t family = base_family == 0xf ? base_family + ((signature >> 20) & 0xff) : base_family;
  const uint32_t model = (((signature >> 16) & 0xf) << 4) | ((signature >> 4) & 0xf);
  if (family != 0x17 || model > 0x1f) return;
  const uint32_t zen2 = (signature & ~((0xfu << 16) | (0xfu << 4))) | (0x3u << 16) | (0x1u << 4);
  for (auto& e : entries)
    if ((e.function == kLeafFeatures || e.function == kExtLeafFeatures) && e.eax == signature) e.eax = zen2;
}

void patch_basic_leaves(std::vector<kvm_cpuid_entry2>& entries, const Topology& topology, const CpuPlacement& cpu) {
  auto& leaf0 = entry_for(entries, kLeafVendor);
  leaf0.eax = std::max(leaf0.eax, kLeafTopology);

  // EBX[23:16] is the APIC ID range of a package (only the legacy parsers read it; it
  // must still agree with the shifts), HTT says that field is meaningful.
  const uint32_t package_ids = std::min(1u << topology.package_shift(), 255u);
  auto& leaf1 = entry_for(entries, kLeafFeatures);
  leaf1.ebx = (leaf1.ebx & 0xffff) | (package_ids << 16) | (cpu.apic_id << 24);
  leaf1.edx = package_ids > 1 ? leaf1.edx | kHtt : leaf1.edx & ~kHtt;
  // Without it the guest never looks at the KVM leaves (0x40000000): no kvmclock, and
  // with hardware-reduced ACPI (no PIT, no HPET) nothing to calibrate the TSC against.
  leaf1.ecx |= kHypervisor;
  // The in-kernel LAPIC emulates the TSC-deadline timer (KVM_CAP_TSC_DEADLINE_TIMER,
  // always there with KVM_CREATE_IRQCHIP) but KVM does not list it as supported. The
  // guest needs it: with no PIT or HPET it has nothing to calibrate the LAPIC timer against.
  leaf1.ecx |= kTscDeadline;
  // No MTRRs: Linux 6.1 programs them on every AP with stop_machine(), a rendezvous of
  // all vCPUs spinning with interrupts off. With more vCPUs than host CPUs that stalls
  // the guest (and wedged the emulated nested host); under KVM's NPT/EPT the guest's
  // memory types come from PAT anyway.
  leaf1.edx &= ~kMtrr;

  erase_leaf(entries, kLeafTopology);
  erase_leaf(entries, kLeafTopologyV2);
  append(entries, extended_topology_leaf(kLeafTopology, topology, cpu));
}

void patch_amd_leaves(std::vector<kvm_cpuid_entry2>& entries, const Topology& topology, const CpuPlacement& cpu) {
  report_zen1_as_zen2(entries);

  auto& max_ext = entry_for(entries, kExtLeafMax);
  max_ext.eax = std::max(max_ext.eax, kExtLeafAmdTopology);

  const uint32_t per_package = logical_cpus_per_package(topology);
  auto& features = entry_for(entries, kExtLeafFeatures);
  features.ecx |= kTopoExt;
  features.ecx = per_package > 1 ? features.ecx | kCmpLegacy : features.ecx & ~kCmpLegacy;

  // NC (ECX[7:0]) and ApicIdCoreIdSize (ECX[15:12]): 6.1 takes x86_max_cores and the
  // package shift from here before leaf 0x1F refines them.
  auto& sizes = entry_for(entries, kExtLeafSizes);
  sizes.ecx = (sizes.ecx & ~0xf0ffu) | (topology.package_shift() << 12) | (per_package - 1);

  const auto caches = cache_hierarchy(entries, kCacheLeafAmd);
  auto& l2l3 = entry_for(entries, kExtLeafL2L3);
  if (l2l3.edx == 0) l2l3.edx = amd_legacy_l3_descriptor(caches[3]);
  erase_leaf(entries, kCacheLeafAmd);
  append(entries, cache_leaf_entries(kCacheLeafAmd, caches, topology));

  // EBX: core id within the package and threads per core - 1; ECX: node id and nodes
  // per package - 1 (one node per package here). 6.1 reads smp_num_siblings and an
  // initial die_id from here, 6.12 the AMD node id.
  auto& amd_topology = entry_for(entries, kExtLeafAmdTopology);
  amd_topology.eax = cpu.apic_id;
  amd_topology.ebx = ((topology.spec().threads_per_core - 1) << 8) | (cpu.core_id & 0xff);
  amd_topology.ecx = cpu.node & 0xff;
  amd_topology.edx = 0;

  // AMD has no leaf 4 (the kernel reads 0x8000001D instead); real parts return zeros.
  erase_leaf(entries, kCacheLeafIntel);
}

void patch_intel_leaves(std::vector<kvm_cpuid_entry2>& entries, const Topology& topology, const CpuPlacement& cpu) {
  auto& leaf0 = entry_for(entries, kLeafVendor);
  leaf0.eax = std::max(leaf0.eax, kLeafTopologyV2);
  append(entries, extended_topology_leaf(kLeafTopologyV2, topology, cpu));

  const auto caches = cache_hierarchy(entries, kCacheLeafIntel);
  erase_leaf(entries, kCacheLeafIntel);
  append(entries, cache_leaf_entries(kCacheLeafIntel, caches, topology));
  // AMD-only leaves: a non-AMD kernel never reads them, real Intel parts have none.
  erase_leaf(entries, kCacheLeafAmd);
  erase_leaf(entries, kExtLeafAmdTopology);
}

void patch_kvm_leaves(std::vector<kvm_cpuid_entry2>& entries) {
  for (auto& e : entries)
    if (e.function == kLeafKvmFeatures) e.eax &= kKvmFeaturesAllowed;
}

}  // namespace

CpuVendor cpuid_vendor(const std::vector<kvm_cpuid_entry2>& entries) {
  const auto* leaf0 = find_cpuid_entry(entries, kLeafVendor);
  if (!leaf0) return CpuVendor::other;
  char vendor[12];
  std::memcpy(vendor, &leaf0->ebx, 4);
  std::memcpy(vendor + 4, &leaf0->edx, 4);
  std::memcpy(vendor + 8, &leaf0->ecx, 4);
  const std::string_view name(vendor, sizeof vendor);
  if (name == "GenuineIntel") return CpuVendor::intel;
  if (name == "AuthenticAMD") return CpuVendor::amd;
  return CpuVendor::other;
}

const kvm_cpuid_entry2* find_cpuid_entry(const std::vector<kvm_cpuid_entry2>& entries, uint32_t function,
                                         uint32_t index) {
  for (const auto& e : entries)
    if (e.function == function && (!(e.flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e.index == index)) return &e;
  return nullptr;
}

std::vector<kvm_cpuid_entry2> cpuid_for_vcpu(const std::vector<kvm_cpuid_entry2>& supported,
                                             const Topology& topology, uint32_t cpu) {
  const auto& placement = topology.cpu(cpu);
  std::vector<kvm_cpuid_entry2> entries = supported;
  patch_basic_leaves(entries, topology, placement);
  patch_kvm_leaves(entries);
  // Other vendors (Hygon, Centaur, ...) get the Intel-style leaves: 6.12 and 6.1 read
  // 0x1F/0xB first wherever they read topology at all.
  if (cpuid_vendor(supported) == CpuVendor::amd)
    patch_amd_leaves(entries, topology, placement);
  else
    patch_intel_leaves(entries, topology, placement);
  std::sort(entries.begin(), entries.end(), [](const kvm_cpuid_entry2& a, const kvm_cpuid_entry2& b) {
    return a.function != b.function ? a.function < b.function : a.index < b.index;
  });
  return entries;
}

void hide_xsave(std::vector<kvm_cpuid_entry2>& entries) {
  constexpr uint32_t kLeafExtendedFeatures = 0x7;
  constexpr uint32_t kLeafXsave = 0xD;
  // Leaf 1 ECX: FMA(12), XSAVE(26), OSXSAVE(27), AVX(28), F16C(29).
  constexpr uint32_t kLeaf1Ecx = (1u << 12) | (1u << 26) | (1u << 27) | (1u << 28) | (1u << 29);
  // Leaf 7.0 EBX: AVX2(5) and the AVX-512 family (16, 17, 21, 26, 27, 28, 30, 31).
  constexpr uint32_t kLeaf7Ebx = (1u << 5) | (1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) | (1u << 27) |
                                 (1u << 28) | (1u << 30) | (1u << 31);
  // Leaf 7.0 ECX: AVX512_VBMI(1), VAES(9), VPCLMULQDQ(10), AVX512_VNNI(11), BITALG(12), VPOPCNTDQ(14).
  constexpr uint32_t kLeaf7Ecx = (1u << 1) | (1u << 9) | (1u << 10) | (1u << 11) | (1u << 12) | (1u << 14);
  for (auto& e : entries) {
    if (e.function == kLeafFeatures) e.ecx &= ~kLeaf1Ecx;
    if (e.function == kLeafExtendedFeatures && e.index == 0) {
      e.ebx &= ~kLeaf7Ebx;
      e.ecx &= ~kLeaf7Ecx;
    }
  }
  erase_leaf(entries, kLeafXsave);
}

}  // namespace ktstr::kvm
