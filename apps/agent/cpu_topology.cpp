#include "cpu_topology.hpp"

#include <algorithm>
#include <charconv>
#include <string_view>
#include <climits>
#include <cstdint>
#include <optional>
#include <vector>

#include "kvm/cpu_list.hpp"
#include "sysfs_text.hpp"

namespace ktstr::agent {

namespace {

const std::string kCpuRoot = "/sys/devices/system/cpu/";
const std::string kNodeRoot = "/sys/devices/system/node/";
// Same bound as the host parser: more CPUs than this is a broken report.
constexpr unsigned kMaxCpus = 4096;

std::optional<unsigned> parse_unsigned(std::string_view s) {
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

/// A sysfs cpu list; nullopt when unreadable or not a well-formed list.
std::optional<std::vector<uint32_t>> cpu_list(const std::string& path) {
  auto text = read_text(path);
  if (!text) return std::nullopt;
  return kvm::parse_cpu_list(*text, kMaxCpus - 1);
}

/// A sysfs id; nullopt when unreadable or negative (die_id is -1 where unknown).
std::optional<uint32_t> id(const std::string& path) {
  auto value = read_integer(path);
  if (!value || *value < 0 || *value > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(*value);
}

struct LastLevelCache {
  std::optional<std::vector<uint32_t>> shared_cpus;
  std::optional<uint32_t> level;
};

// Not every CPU has an index3 (L3); the last-level cache is the highest-level data
// or unified cache, whichever index it sits at.
LastLevelCache last_level_cache(const std::string& cpu_dir) {
  LastLevelCache llc;
  long long best_level = -1;
  const std::string cache_dir = cpu_dir + "cache/";
  for (const auto& name : list_dir(cache_dir)) {
    if (name.rfind("index", 0) != 0) continue;
    const std::string index_dir = cache_dir + name + "/";
    auto level = read_integer(index_dir + "level");
    if (!level || *level <= best_level || *level > UINT32_MAX) continue;
    if (read_text(index_dir + "type").value_or("") == "Instruction") continue;
    best_level = *level;
    llc.level = static_cast<uint32_t>(*level);
    llc.shared_cpus = cpu_list(index_dir + "shared_cpu_list");
  }
  return llc;
}

// With CONFIG_NUMA, cpuN has a nodeM link; otherwise look for N in each node's cpulist.
std::optional<uint32_t> numa_node(unsigned cpu, const std::string& cpu_dir) {
  for (const auto& name : list_dir(cpu_dir))
    if (name.rfind("node", 0) == 0)
      if (auto node = parse_unsigned(std::string_view(name).substr(4))) return *node;
  for (const auto& name : list_dir(kNodeRoot)) {
    if (name.rfind("node", 0) != 0) continue;
    auto node = parse_unsigned(std::string_view(name).substr(4));
    auto cpus = cpu_list(kNodeRoot + name + "/cpulist");  // sorted
    if (node && cpus && std::binary_search(cpus->begin(), cpus->end(), cpu)) return *node;
  }
  return std::nullopt;
}

protocol::ObservedCpu observe_cpu(unsigned cpu) {
  const std::string cpu_dir = kCpuRoot + "cpu" + std::to_string(cpu) + "/";
  const std::string topo = cpu_dir + "topology/";
  auto llc = last_level_cache(cpu_dir);
  protocol::ObservedCpu out;
  out.cpu = cpu;
  out.package = id(topo + "physical_package_id");
  out.die = id(topo + "die_id");
  out.core_id = id(topo + "core_id");
  out.thread_siblings = cpu_list(topo + "thread_siblings_list");
  out.llc = llc.shared_cpus;
  out.llc_level = llc.level;
  out.node = numa_node(cpu, cpu_dir);
  return out;
}

}  // namespace

protocol::TopologyReport observe_topology() {
  protocol::TopologyReport report;
  report.online = cpu_list(kCpuRoot + "online");
  report.possible = cpu_list(kCpuRoot + "possible");
  for (uint32_t cpu : report.online.value_or(std::vector<uint32_t>{})) report.cpus.push_back(observe_cpu(cpu));
  return report;
}

}  // namespace ktstr::agent
