#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <set>
#include <string>

#include "kvm/cpuid.hpp"
#include "kvm/cpuid_cache.hpp"
#include "kvm/topology.hpp"

using namespace ktstr::kvm;

namespace {

// -- synthetic KVM_GET_SUPPORTED_CPUID tables -----------------------------------------

kvm_cpuid_entry2 leaf(uint32_t function, uint32_t eax, uint32_t ebx, uint32_t ecx, uint32_t edx) {
  kvm_cpuid_entry2 e{};
  e.function = function;
  e.eax = eax, e.ebx = ebx, e.ecx = ecx, e.edx = edx;
  return e;
}

kvm_cpuid_entry2 subleaf(uint32_t function, uint32_t index, uint32_t eax, uint32_t ebx, uint32_t ecx,
                         uint32_t edx) {
  auto e = leaf(function, eax, ebx, ecx, edx);
  e.index = index;
  e.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
  return e;
}

void set_vendor(kvm_cpuid_entry2& e, const char (&name)[13]) {
  std::memcpy(&e.ebx, name, 4);
  std::memcpy(&e.edx, name + 4, 4);
  std::memcpy(&e.ecx, name + 8, 4);
}

// A deterministic cache subleaf: sharing fields deliberately wrong (the host's).
kvm_cpuid_entry2 cache(uint32_t function, uint32_t index, uint32_t level, uint32_t type, uint32_t size,
                       uint32_t ways) {
  const uint32_t sets = size / (ways * 64);
  return subleaf(function, index, type | (level << 5) | (1u << 8) | (7u << 14) | (31u << 26),
                 ((ways - 1) << 22) | 63, sets - 1, 0);
}

const kvm_cpuid_entry2 kKvmSignature = leaf(0x40000000, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d);
const kvm_cpuid_entry2 kKvmFeatures = leaf(0x40000001, 0x01007afb, 0, 0, 0);

// What KVM reports on an EPYC host such as QEMU's "EPYC" model (family 0x17, model 1).
std::vector<kvm_cpuid_entry2> amd_epyc_supported() {
  auto l0 = leaf(0x0, 0xd, 0, 0, 0);
  set_vendor(l0, "AuthenticAMD");
  auto ext0 = leaf(0x80000000, 0x8000001f, 0, 0, 0);
  set_vendor(ext0, "AuthenticAMD");
  return {
      l0,
      leaf(0x1, 0x00800f12, 0x00000800, 0xfed83203, 0x078bfbff),
      subleaf(0x7, 0, 0, 0x219c01ab, 0, 0),
      subleaf(0xb, 0, 0, 0, 0, 0),  // KVM zeroes the host topology
      subleaf(0xd, 0, 0x7, 0x340, 0x340, 0),
      kKvmSignature,
      kKvmFeatures,
      ext0,
      leaf(0x80000001, 0x00800f12, 0, 0x000001f3, 0x2fd3fbff),  // no TOPOEXT, no CmpLegacy
      leaf(0x80000005, 0xff40ff40, 0xff40ff40, 0x20080140, 0x40040140),
      leaf(0x80000006, 0, 0x42004200, 0x02008140, 0),  // no L3 descriptor
      leaf(0x80000008, 0x3030, 0, 0x7003, 0),
      cache(0x8000001d, 0, 1, kCacheData, 32 << 10, 8),
      cache(0x8000001d, 1, 1, kCacheInstruction, 64 << 10, 4),
      cache(0x8000001d, 2, 2, kCacheUnified, 512 << 10, 8),
      cache(0x8000001d, 3, 3, kCacheUnified, 8 << 20, 16),
      subleaf(0x8000001d, 4, 0, 0, 0, 0),
      leaf(0x8000001e, 0, 0, 0, 0),
  };
}

std::vector<kvm_cpuid_entry2> intel_supported() {
  auto l0 = leaf(0x0, 0x16, 0, 0, 0);
  set_vendor(l0, "GenuineIntel");
  return {
      l0,
      leaf(0x1, 0x000506f0, 0x00000800, 0xfffa3203, 0x0f8bfbff),
      cache(0x4, 0, 1, kCacheData, 48 << 10, 12),
      cache(0x4, 1, 1, kCacheInstruction, 32 << 10, 8),
      cache(0x4, 2, 2, kCacheUnified, 2 << 20, 16),
      cache(0x4, 3, 3, kCacheUnified, 30 << 20, 15),
      subleaf(0x4, 4, 0, 0, 0, 0),
      subleaf(0xb, 0, 0, 0, 0, 0),
      subleaf(0xb, 1, 0, 0, 0, 0),
      kKvmSignature,
      kKvmFeatures,
      leaf(0x80000000, 0x80000008, 0, 0, 0),
      leaf(0x80000001, 0, 0, 0x121, 0x2c100800),
      leaf(0x80000008, 0x3030, 0, 0, 0),
      leaf(0x8000001e, 0, 0, 0, 0),  // must not survive on Intel
  };
}

// -- what the guest kernel derives from a table ------------------------------------------

struct Regs {
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

// The CPUID instruction as KVM answers it for an in-range leaf: the matching entry, or zeros.
Regs cpuid(const std::vector<kvm_cpuid_entry2>& t, uint32_t function, uint32_t index = 0) {
  const auto* e = find_cpuid_entry(t, function, index);
  return e ? Regs{e->eax, e->ebx, e->ecx, e->edx} : Regs{};
}

uint32_t order(uint32_t n) { return order_base_2(n); }  // the kernel's get_count_order

bool is_amd(const std::vector<kvm_cpuid_entry2>& t) { return cpuid_vendor(t) == CpuVendor::amd; }

// One CPU's topology as Linux 6.1 or 6.12 computes it (see the comment in cpuid.cpp).
struct Derived {
  uint32_t apicid = 0, package = 0, die = 0, core_id = 0, llc_id = 0, node = 0;
  uint32_t smp_num_siblings = 0, max_cores = 0;  // 6.1 globals
  std::vector<uint32_t> cache_sharing;           // EAX[25:14] + 1 per cache index
};

uint32_t topology_leaf(const std::vector<kvm_cpuid_entry2>& t) {
  const uint32_t max_basic = cpuid(t, 0).eax;
  auto valid = [&](uint32_t l) { return max_basic >= l && cpuid(t, l).ebx != 0 && ((cpuid(t, l).ecx >> 8) & 0xff) == 1; };
  return valid(0x1f) ? 0x1f : valid(0xb) ? 0xb : 0;
}

Derived derive_common(const std::vector<kvm_cpuid_entry2>& t) {
  Derived d;
  const bool amd = is_amd(t);
  const uint32_t cache_leaf = amd ? 0x8000001d : 0x4;
  for (uint32_t i = 0; ((cpuid(t, cache_leaf, i).eax) & 0x1f) != 0; ++i)
    d.cache_sharing.push_back(((cpuid(t, cache_leaf, i).eax >> 14) & 0xfff) + 1);
  d.node = amd ? cpuid(t, 0x8000001e).ecx & 0xff : 0;
  return d;
}

uint32_t derive_llc_id(const std::vector<kvm_cpuid_entry2>& t, const Derived& d) {
  if (is_amd(t)) {
    // cacheinfo_amd_init_llc_id: needs an L3 in 0x80000006 and a post-Zen1 model.
    REQUIRE(cpuid(t, 0x80000006).edx != 0);
    const uint32_t eax1 = cpuid(t, 1).eax;
    const uint32_t model = (((eax1 >> 16) & 0xf) << 4) | ((eax1 >> 4) & 0xf);
    REQUIRE_FALSE(model <= 0x1f);
    return d.apicid >> order(d.cache_sharing.back());
  }
  // init_intel_cacheinfo: the L3's APIC ID with the sharing bits cleared.
  return d.apicid & ~((1u << order(d.cache_sharing.back())) - 1);
}

Derived derive_linux_6_12(const std::vector<kvm_cpuid_entry2>& t) {
  enum { smt, core, module, tile, die, diegrp, pkg, domains };
  std::array<uint32_t, domains> shift{};
  const std::map<uint32_t, int> domain_of_type = {{1, smt}, {2, core}, {3, module}, {4, tile}, {5, die}, {6, diegrp}};
  const uint32_t l = topology_leaf(t);
  REQUIRE(l != 0);
  Derived d = derive_common(t);
  d.apicid = cpuid(t, l).edx;
  for (uint32_t i = 0;; ++i) {
    const Regs r = cpuid(t, l, i);
    const uint32_t type = (r.ecx >> 8) & 0xff;
    if ((r.ebx & 0xffff) == 0 || type == 0) break;
    for (int dom = domain_of_type.at(type); dom < domains; ++dom) shift[dom] = r.eax & 0x1f;
  }
  d.package = d.apicid >> shift[diegrp];
  d.die = d.apicid >> shift[tile];
  d.core_id = (d.apicid & ((1u << shift[pkg]) - 1)) >> shift[smt];
  d.llc_id = derive_llc_id(t, d);
  return d;
}

Derived derive_linux_6_1(const std::vector<kvm_cpuid_entry2>& t) {
  const uint32_t l = topology_leaf(t);
  REQUIRE(l != 0);
  Derived d = derive_common(t);
  // early_init_amd / early_init_amd_mc, overridden below by detect_extended_topology.
  d.smp_num_siblings = is_amd(t) ? ((cpuid(t, 0x8000001e).ebx >> 8) & 0xff) + 1 : 1;
  d.die = is_amd(t) ? cpuid(t, 0x8000001e).ecx & 0xff : 0;
  Regs r = cpuid(t, l, 0);
  d.apicid = r.edx;
  const uint32_t ht_width = r.eax & 0x1f;
  uint32_t core_plus_width = ht_width, die_plus_width = ht_width, pkg_width = ht_width;
  uint32_t core_siblings = r.ebx & 0xffff, die_siblings = core_siblings;
  d.smp_num_siblings = std::max(d.smp_num_siblings, r.ebx & 0xffff);
  bool die_present = false;
  for (uint32_t i = 1;; ++i) {
    r = cpuid(t, l, i);
    const uint32_t type = (r.ecx >> 8) & 0xff;
    if (type == 2) core_siblings = die_siblings = r.ebx & 0xffff, core_plus_width = die_plus_width = r.eax & 0x1f;
    if (type == 5) die_present = true, die_siblings = r.ebx & 0xffff, die_plus_width = r.eax & 0x1f;
    if (type == 0) break;
    pkg_width = r.eax & 0x1f;
  }
  d.core_id = (d.apicid >> ht_width) & ((~(~0u << pkg_width)) >> ht_width);
  if (die_present) d.die = (d.apicid >> core_plus_width) & ((~(~0u << die_plus_width)) >> core_plus_width);
  d.package = d.apicid >> pkg_width;
  d.max_cores = core_siblings / d.smp_num_siblings;
  CHECK(die_siblings / core_siblings == 1);  // __max_die_per_package
  d.llc_id = derive_llc_id(t, d);
  return d;
}

using CpuSet = std::vector<uint32_t>;

CpuSet cpus_where(uint32_t n, auto pred) {
  CpuSet out;
  for (uint32_t c = 0; c < n; ++c)
    if (pred(c)) out.push_back(c);
  return out;
}

// Compares everything sysfs would show for every CPU with the declared topology.
void check_kernel_view(const std::vector<kvm_cpuid_entry2>& supported, const Topology& topo,
                       Derived (*derive)(const std::vector<kvm_cpuid_entry2>&), bool die_is_package) {
  const uint32_t n = topo.cpu_count();
  const bool amd = is_amd(supported);
  std::vector<Derived> d;
  for (uint32_t c = 0; c < n; ++c) d.push_back(derive(cpuid_for_vcpu(supported, topo, c)));

  for (uint32_t c = 0; c < n; ++c) {
    INFO("cpu " << c);
    const auto& p = topo.cpu(c);
    CHECK(d[c].apicid == p.apic_id);
    CHECK(d[c].package == p.package);
    CHECK(d[c].die == (die_is_package ? p.package : 0));
    CHECK(d[c].core_id == p.core_id);
    if (amd) CHECK(d[c].node == p.node);

    // match_smt: same package, die, core id (and, on AMD with TOPOEXT, LLC and node).
    auto siblings = cpus_where(n, [&](uint32_t o) {
      return d[o].package == d[c].package && d[o].die == d[c].die && d[o].core_id == d[c].core_id &&
             (!amd || (d[o].llc_id == d[c].llc_id && d[o].node == d[c].node));
    });
    CHECK(siblings == topo.thread_siblings(c));
    auto llc = cpus_where(n, [&](uint32_t o) { return d[o].llc_id == d[c].llc_id; });
    CHECK(llc == topo.llc_cpus(c));

    // cache/indexN/shared_cpu_list.
    REQUIRE(d[c].cache_sharing.size() == 4);
    for (uint32_t index = 0; index < 4; ++index) {
      INFO("cache index " << index);
      const uint32_t nshared = d[c].cache_sharing[index];
      CpuSet shared;
      if (amd && index == 3) {
        shared = llc;  // cpu_llc_shared_mask
      } else if (amd) {
        const uint32_t first = d[c].apicid - d[c].apicid % nshared;
        shared = cpus_where(n, [&](uint32_t o) { return d[o].apicid >= first && d[o].apicid < first + nshared; });
      } else {
        shared = cpus_where(n, [&](uint32_t o) { return d[o].apicid >> order(nshared) == d[c].apicid >> order(nshared); });
      }
      CHECK(shared == (index == 3 ? topo.llc_cpus(c) : topo.thread_siblings(c)));
    }
  }
}

const std::vector<TopologySpec> kTopologies = {{1, 1, 1, 1}, {1, 1, 2, 2}, {1, 2, 2, 1}, {2, 2, 2, 1}, {2, 4, 3, 2}};

}  // namespace

TEST_CASE("Linux 6.12 derives the declared package, core, SMT and LLC groups from the leaves") {
  for (const auto& spec : kTopologies) {
    INFO("topology " << spec.to_string());
    Topology topo(spec);
    SECTION("AMD " + spec.to_string()) { check_kernel_view(amd_epyc_supported(), topo, derive_linux_6_12, true); }
    SECTION("Intel " + spec.to_string()) { check_kernel_view(intel_supported(), topo, derive_linux_6_12, true); }
  }
}

TEST_CASE("Linux 6.1 derives the declared topology (die = package on AMD) and the right core and sibling counts") {
  for (const auto& spec : kTopologies) {
    INFO("topology " << spec.to_string());
    Topology topo(spec);
    for (const auto& supported : {amd_epyc_supported(), intel_supported()}) {
      // On Intel, 6.1 reads 0x1F's DIE level package-relative: die 0 (see cpuid.cpp).
      check_kernel_view(supported, topo, derive_linux_6_1, cpuid_vendor(supported) == CpuVendor::amd);
      const auto d = derive_linux_6_1(cpuid_for_vcpu(supported, topo, 0));
      CHECK(d.smp_num_siblings == spec.threads_per_core);
      CHECK(d.max_cores == topo.cores_per_package());
    }
  }
}

TEST_CASE("every topology leaf reports the vCPU's APIC ID") {
  Topology topo({2, 4, 3, 2});
  for (uint32_t c = 0; c < topo.cpu_count(); ++c) {
    const uint32_t apic = topo.cpu(c).apic_id;
    const auto amd = cpuid_for_vcpu(amd_epyc_supported(), topo, c);
    CHECK(cpuid(amd, 0x1).ebx >> 24 == apic);
    for (uint32_t i = 0; i < 3; ++i) CHECK(cpuid(amd, 0xb, i).edx == apic);
    CHECK(find_cpuid_entry(amd, 0x1f) == nullptr);  // AMD: die from 0x8000001E, see cpuid.cpp
    CHECK(cpuid(amd, 0x8000001e).eax == apic);
    const auto intel = cpuid_for_vcpu(intel_supported(), topo, c);
    CHECK(cpuid(intel, 0x1).ebx >> 24 == apic);
    CHECK(cpuid(intel, 0x1f, 0).edx == apic);
  }
}

TEST_CASE("extended topology leaves carry SMT, CORE and (0x1F) DIE levels with the model's shifts") {
  Topology topo({2, 4, 3, 2});  // thread_bits 1, package_shift 4, 12 CPUs per package
  const auto t = cpuid_for_vcpu(intel_supported(), topo, 7);
  struct Expect {
    uint32_t leaf, index, shift, cpus, type;
  };
  for (auto e : {Expect{0xb, 0, 1, 2, 1}, Expect{0xb, 1, 4, 12, 2}, Expect{0xb, 2, 0, 0, 0}, Expect{0x1f, 0, 1, 2, 1},
                 Expect{0x1f, 1, 4, 12, 2}, Expect{0x1f, 2, 4, 12, 5}, Expect{0x1f, 3, 0, 0, 0}}) {
    INFO("leaf " << e.leaf << " subleaf " << e.index);
    const Regs r = cpuid(t, e.leaf, e.index);
    CHECK(r.eax == e.shift);
    CHECK(r.ebx == e.cpus);
    CHECK(r.ecx == ((e.type << 8) | e.index));
    CHECK(find_cpuid_entry(t, e.leaf, e.index)->flags == KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
  }
  CHECK(cpuid(t, 0).eax == 0x1f);
  CHECK(cpuid(t, 1).ebx >> 16 == ((9u << 8) | 16));  // CPU 7 has APIC ID 9; 16 IDs per package
  CHECK(cpuid(t, 1).edx & (1u << 28));             // HTT
}

TEST_CASE("a single-CPU package clears HTT and CmpLegacy and keeps shift 0 levels valid") {
  Topology topo({1, 1, 1, 1});
  const auto t = cpuid_for_vcpu(amd_epyc_supported(), topo, 0);
  CHECK_FALSE(cpuid(t, 1).edx & (1u << 28));
  CHECK_FALSE(cpuid(t, 0x80000001).ecx & (1u << 1));
  CHECK(((cpuid(t, 1).ebx >> 16) & 0xff) == 1);
  CHECK(cpuid(t, 0xb, 0).ebx == 1);
  CHECK(cpuid(t, 0xb, 1).ebx == 1);
  CHECK((cpuid(t, 0x80000008).ecx & 0xf0ff) == 0);
}

TEST_CASE("AMD tables get TOPOEXT, 0x8000001D/1E and NC, and lose leaf 4") {
  Topology topo({2, 4, 3, 2});
  const auto t = cpuid_for_vcpu(amd_epyc_supported(), topo, 13);  // package 1, LLC 0, core 0, thread 1
  CHECK(cpuid(t, 0x80000000).eax >= 0x8000001e);
  CHECK(cpuid(t, 0x80000001).ecx & (1u << 22));
  CHECK(cpuid(t, 0x80000001).ecx & (1u << 1));
  CHECK((cpuid(t, 0x80000008).ecx & 0xff) == 11);
  CHECK(((cpuid(t, 0x80000008).ecx >> 12) & 0xf) == 4);
  CHECK((cpuid(t, 0x80000008).eax) == 0x3030);  // address sizes untouched
  CHECK(cpuid(t, 0x8000001e).ebx == ((1u << 8) | topo.cpu(13).core_id));
  CHECK(cpuid(t, 0x8000001e).ecx == 1);  // node 1, one node per package
  CHECK(cpuid(t, 0x80000006).edx != 0);
  CHECK(std::none_of(t.begin(), t.end(), [](const kvm_cpuid_entry2& e) { return e.function == 0x4; }));
  // L3 sharing is the LLC's aligned APIC ID block: 2 threads x 4 core slots = 8 IDs.
  CHECK(((cpuid(t, 0x8000001d, 3).eax >> 14) & 0xfff) == 7);
  CHECK(((cpuid(t, 0x8000001d, 0).eax >> 14) & 0xfff) == 1);
  CHECK((cpuid(t, 0x8000001d, 3).eax >> 26) == 0);  // reserved on AMD
  CHECK(cpuid(t, 0x8000001d, 4).eax == 0);
}

TEST_CASE("Intel tables get leaf 4 with sharing and core fields, and no AMD leaves") {
  Topology topo({2, 4, 3, 2});
  const auto t = cpuid_for_vcpu(intel_supported(), topo, 0);
  CHECK(std::none_of(t.begin(), t.end(), [](const kvm_cpuid_entry2& e) {
    return e.function == 0x8000001d || e.function == 0x8000001e;
  }));
  CHECK(((cpuid(t, 4, 3).eax >> 14) & 0xfff) == 7);
  CHECK(((cpuid(t, 4, 2).eax >> 14) & 0xfff) == 1);
  CHECK((cpuid(t, 4, 0).eax >> 26) == 7);  // 8 core IDs per package (LLC bit + 2 core bits)
  CHECK(cpuid(t, 4, 4).eax == 0);
  CHECK(cpuid(t, 0x80000001).ecx == 0x121);  // untouched on Intel
}

TEST_CASE("cache geometry comes from the host, defaults fill what the host lacks") {
  Topology topo({1, 1, 2, 2});
  const auto amd = cpuid_for_vcpu(amd_epyc_supported(), topo, 0);
  CHECK(cache_hierarchy(amd, kCacheLeafAmd)[3].size_bytes() == 8u << 20);
  CHECK(cache_hierarchy(amd, kCacheLeafAmd)[1].size_bytes() == 64u << 10);
  CHECK(((cpuid(amd, 0x80000006).edx >> 18) * (512u << 10)) == 8u << 20);
  const auto intel = cpuid_for_vcpu(intel_supported(), topo, 0);
  CHECK(cache_hierarchy(intel, kCacheLeafIntel)[3].size_bytes() == 30u << 20);
  CHECK(cache_hierarchy(intel, kCacheLeafIntel)[0].size_bytes() == 48u << 10);

  auto bare = intel_supported();
  std::erase_if(bare, [](const kvm_cpuid_entry2& e) { return e.function == 0x4; });
  const auto filled = cpuid_for_vcpu(bare, topo, 0);
  CHECK(cache_hierarchy(filled, kCacheLeafIntel)[3].size_bytes() == 16u << 20);
  CHECK(((cpuid(filled, 4, 3).eax >> 5) & 7) == 3);
}

TEST_CASE("Zen 1 is reported as Zen 2 so the kernel reads the LLC from 0x8000001D") {
  Topology topo({1, 2, 2, 1});
  const auto t = cpuid_for_vcpu(amd_epyc_supported(), topo, 0);
  CHECK(cpuid(t, 1).eax == 0x00830f12);  // family 0x17, model 0x31, stepping 2
  CHECK(cpuid(t, 0x80000001).eax == 0x00830f12);
  auto rome = amd_epyc_supported();
  rome[1].eax = 0x00830f10;
  CHECK(cpuid(cpuid_for_vcpu(rome, topo, 0), 1).eax == 0x00830f10);
  auto milan = amd_epyc_supported();
  milan[1].eax = 0x00a00f11;  // family 0x19
  CHECK(cpuid(cpuid_for_vcpu(milan, topo, 0), 1).eax == 0x00a00f11);
}

TEST_CASE("the KVM signature and unrelated leaves pass through unchanged, output is sorted") {
  Topology topo({2, 2, 2, 1});
  for (const auto& supported : {amd_epyc_supported(), intel_supported()}) {
    const auto t = cpuid_for_vcpu(supported, topo, 3);
    for (uint32_t fn : {0x40000000u, 0x7u}) {
      const auto* in = find_cpuid_entry(supported, fn);
      const auto* out = find_cpuid_entry(t, fn);
      if (!in) continue;
      REQUIRE(out);
      CHECK(std::memcmp(in, out, sizeof *in) == 0);
    }
    CHECK(std::is_sorted(t.begin(), t.end(), [](const kvm_cpuid_entry2& a, const kvm_cpuid_entry2& b) {
      return a.function != b.function ? a.function < b.function : a.index < b.index;
    }));
  }
}

TEST_CASE("a host max basic leaf above 0x1F is kept") {
  auto supported = intel_supported();
  supported[0].eax = 0x20;
  CHECK(cpuid(cpuid_for_vcpu(supported, Topology({1, 1, 2, 1}), 0), 0).eax == 0x20);
}

TEST_CASE("only the kvmclock paravirt features are offered to the guest") {
  auto supported = amd_epyc_supported();
  kvm_cpuid_entry2 kvm_features{};
  kvm_features.function = 0x40000001;
  kvm_features.eax = 0x01007efb;  // what KVM offered in the nested host: clock, async PF, PV EOI, PV IPI, ...
  supported.push_back(kvm_features);
  const auto t = cpuid_for_vcpu(supported, Topology({1, 1, 2, 1}), 0);
  CHECK(cpuid(t, 0x40000001).eax == ((1u << 0) | (1u << 1) | (1u << 3) | (1u << 24)));
}

TEST_CASE("cpuid_vendor names the vendor from leaf 0") {
  CHECK(cpuid_vendor(amd_epyc_supported()) == CpuVendor::amd);
  CHECK(cpuid_vendor(intel_supported()) == CpuVendor::intel);
  CHECK(cpuid_vendor({}) == CpuVendor::other);
}

TEST_CASE("leaf 1 announces a hypervisor and the TSC-deadline timer (no PIT/HPET to calibrate against)") {
  Topology topo({1, 1, 2, 1});
  for (auto supported : {amd_epyc_supported(), intel_supported()}) {
    auto table = cpuid_for_vcpu(supported, topo, 1);
    CHECK((cpuid(table, 0x1).ecx >> 31) == 1);
    CHECK(((cpuid(table, 0x1).ecx >> 24) & 1) == 1);
    CHECK(((cpuid(table, 0x1).edx >> 12) & 1) == 0);  // no MTRRs: no stop_machine at AP bring-up
  }
}

TEST_CASE("hide_xsave takes XSAVE, AVX and leaf 0xD away and keeps the topology leaves") {
  const Topology topo(TopologySpec{1, 2, 2, 1});
  auto t = cpuid_for_vcpu(amd_epyc_supported(), topo, 1);
  const auto before = t.size();
  REQUIRE(find_cpuid_entry(t, 0xd) != nullptr);
  REQUIRE((find_cpuid_entry(t, 0x1)->ecx & (1u << 26)) != 0);
  hide_xsave(t);
  CHECK(find_cpuid_entry(t, 0xd) == nullptr);
  CHECK(t.size() == before - 1);
  const auto* l1 = find_cpuid_entry(t, 0x1);
  REQUIRE(l1 != nullptr);
  CHECK((l1->ecx & (1u << 26)) == 0);  // XSAVE
  CHECK((l1->ecx & (1u << 28)) == 0);  // AVX
  CHECK((l1->ecx & (1u << 31)) != 0);  // hypervisor bit untouched
  CHECK((find_cpuid_entry(t, 0x7, 0)->ebx & (1u << 5)) == 0);  // AVX2
  CHECK(find_cpuid_entry(t, 0x8000001e)->ebx == find_cpuid_entry(cpuid_for_vcpu(amd_epyc_supported(), topo, 1), 0x8000001e)->ebx);
}
