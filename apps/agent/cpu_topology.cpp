#include "cpu_topology.hpp"

#include <charconv>
#include <string_view>
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

// Which cpuN directories to visit: the shared strict reader, bounded whatever the text says.
std::vector<unsigned> expand_cpu_list(std::string_view text) {
  auto cpus = kvm::parse_cpu_list(text, kMaxCpus - 1);
  if (!cpus) return {};
  return {cpus->begin(), cpus->end()};
}

Json text_or_null(const std::optional<std::string>& text) { return text ? Json(*text) : Json(nullptr); }
Json integer_or_null(const std::optional<long long>& value) { return value ? Json(*value) : Json(nullptr); }

struct LastLevelCache {
  Json shared_cpu_list = nullptr;
  Json level = nullptr;
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
    if (!level || *level <= best_level) continue;
    if (read_text(index_dir + "type").value_or("") == "Instruction") continue;
    best_level = *level;
    llc.level = *level;
    llc.shared_cpu_list = text_or_null(read_text(index_dir + "shared_cpu_list"));
  }
  return llc;
}

// With CONFIG_NUMA, cpuN has a nodeM link; otherwise look for N in each node's cpulist.
Json numa_node(unsigned cpu, const std::string& cpu_dir) {
  for (const auto& name : list_dir(cpu_dir))
    if (name.rfind("node", 0) == 0)
      if (auto node = parse_unsigned(std::string_view(name).substr(4))) return *node;
  for (const auto& name : list_dir(kNodeRoot)) {
    if (name.rfind("node", 0) != 0) continue;
    auto node = parse_unsigned(std::string_view(name).substr(4));
    auto cpulist = read_text(kNodeRoot + name + "/cpulist");
    if (!node || !cpulist) continue;
    for (unsigned c : expand_cpu_list(*cpulist))
      if (c == cpu) return *node;
  }
  return nullptr;
}

Json cpu_fields(unsigned cpu) {
  const std::string cpu_dir = kCpuRoot + "cpu" + std::to_string(cpu) + "/";
  const std::string topo = cpu_dir + "topology/";
  auto llc = last_level_cache(cpu_dir);
  return Json{
      {"cpu", cpu},
      {"package", integer_or_null(read_integer(topo + "physical_package_id"))},
      {"die", integer_or_null(read_integer(topo + "die_id"))},
      {"core", integer_or_null(read_integer(topo + "core_id"))},
      {"thread_siblings", text_or_null(read_text(topo + "thread_siblings_list"))},
      {"llc", llc.shared_cpu_list},
      {"llc_level", llc.level},
      {"node", numa_node(cpu, cpu_dir)},
  };
}

}  // namespace

Json topology_fields() {
  auto online = read_text(kCpuRoot + "online");
  Json cpus = Json::array();
  for (unsigned cpu : expand_cpu_list(online.value_or(""))) cpus.push_back(cpu_fields(cpu));
  return Json{
      {"online", text_or_null(online)},
      {"possible", text_or_null(read_text(kCpuRoot + "possible"))},
      {"cpus", std::move(cpus)},
  };
}

}  // namespace ktstr::agent
