#include "kvm/topology.hpp"

#include <algorithm>
#include <charconv>

#include "kvm/cpu_list.hpp"
#include "kvm/error.hpp"

namespace ktstr::kvm {

namespace {

std::optional<uint32_t> parse_u32(std::string_view s) {
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::vector<uint32_t> cpus_where(const std::vector<CpuPlacement>& cpus, auto pred) {
  std::vector<uint32_t> out;
  for (const auto& c : cpus)
    if (pred(c)) out.push_back(c.cpu);
  return out;
}

}  // namespace

std::optional<TopologySpec> TopologySpec::parse(std::string_view text) {
  uint32_t v[4];
  for (int i = 0; i < 4; ++i) {
    auto comma = text.find(',');
    if ((i < 3) != (comma != std::string_view::npos)) return std::nullopt;
    auto value = parse_u32(text.substr(0, comma));
    if (!value) return std::nullopt;
    v[i] = *value;
    text = i < 3 ? text.substr(comma + 1) : std::string_view{};
  }
  return TopologySpec{v[0], v[1], v[2], v[3]};
}

std::string TopologySpec::to_string() const {
  return std::to_string(numa_nodes) + "," + std::to_string(llcs) + "," + std::to_string(cores_per_llc) +
         "," + std::to_string(threads_per_core);
}

uint32_t order_base_2(uint32_t n) {
  uint32_t b = 0;
  while ((1ULL << b) < n) ++b;
  return b;
}

Topology::Topology(TopologySpec spec) : spec_(spec) {
  if (!spec.numa_nodes || !spec.llcs || !spec.cores_per_llc || !spec.threads_per_core)
    throw Error(ErrorKind::topology, "topology " + spec.to_string() + ": every count must be at least 1");
  if (spec.llcs % spec.numa_nodes)
    throw Error(ErrorKind::topology, "topology " + spec.to_string() + ": " + std::to_string(spec.llcs) +
                                         " LLCs cannot be split evenly over " + std::to_string(spec.numa_nodes) +
                                         " NUMA nodes");
  const uint64_t total = uint64_t{spec.llcs} * spec.cores_per_llc * spec.threads_per_core;
  if (total > kMaxVcpus)
    throw Error(ErrorKind::too_many_vcpus, "topology " + spec.to_string() + " has " + std::to_string(total) +
                                               " vCPUs; at most " + std::to_string(kMaxVcpus) + " are supported");
  thread_bits_ = order_base_2(spec.threads_per_core);
  core_bits_ = order_base_2(spec.cores_per_llc);
  llc_bits_ = order_base_2(llcs_per_package());
  if (max_apic_id() > kMaxApicId)
    throw Error(ErrorKind::too_many_vcpus, "topology " + spec.to_string() + " needs APIC ID " +
                                               std::to_string(max_apic_id()) + "; at most " +
                                               std::to_string(kMaxApicId) + " fit in xAPIC mode");

  uint32_t cpu = 0;
  for (uint32_t pkg = 0; pkg < packages(); ++pkg)
    for (uint32_t l = 0; l < llcs_per_package(); ++l)
      for (uint32_t c = 0; c < spec.cores_per_llc; ++c)
        for (uint32_t t = 0; t < spec.threads_per_core; ++t) {
          CpuPlacement p;
          p.cpu = cpu++;
          p.package = p.node = p.die = pkg;
          p.llc = pkg * llcs_per_package() + l;
          p.core = p.llc * spec.cores_per_llc + c;
          p.thread = t;
          p.core_id = (l << core_bits_) | c;
          p.apic_id = (pkg << package_shift()) | (l << llc_shift()) | (c << thread_bits_) | t;
          cpus_.push_back(p);
        }
}

uint32_t Topology::max_apic_id() const {
  return ((packages() - 1) << package_shift()) | ((llcs_per_package() - 1) << llc_shift()) |
         ((spec_.cores_per_llc - 1) << thread_bits_) | (spec_.threads_per_core - 1);
}

std::vector<uint32_t> Topology::thread_siblings(uint32_t cpu) const {
  auto core = cpus_.at(cpu).core;
  return cpus_where(cpus_, [&](const CpuPlacement& c) { return c.core == core; });
}

std::vector<uint32_t> Topology::llc_cpus(uint32_t cpu) const {
  auto llc = cpus_.at(cpu).llc;
  return cpus_where(cpus_, [&](const CpuPlacement& c) { return c.llc == llc; });
}

std::vector<uint32_t> Topology::node_cpus(uint32_t node) const {
  return cpus_where(cpus_, [&](const CpuPlacement& c) { return c.node == node; });
}

std::string format_cpu_list(const std::vector<uint32_t>& cpus) { return format_sorted_cpu_list(cpus); }

}  // namespace ktstr::kvm
