#include "apps/cli/verdict/topology_check.hpp"

#include <algorithm>
#include <map>

namespace ktstr::cli {

namespace {

using kvm::CpuPlacement;
using kvm::Topology;

constexpr const char* kMissing = "missing";

// One compared per-CPU field. Both sides are rendered to text (cpu lists in
// canonical sysfs form) and compared as text, which is also what the user sees.
struct CpuField {
  const char* name;    ///< field name in mismatches and JSON
  const char* column;  ///< table header
  std::string (*declared)(const Topology&, const CpuPlacement&);
  std::optional<std::string> (*observed)(const protocol::ObservedCpu&);
};

std::optional<std::string> text_of(const std::optional<uint32_t>& v) {
  return v ? std::optional(std::to_string(*v)) : std::nullopt;
}
std::optional<std::string> text_of(const std::optional<std::vector<uint32_t>>& v) {
  return v ? std::optional(kvm::format_cpu_list(*v)) : std::nullopt;
}

const CpuField kCpuFields[] = {
    {"package", "package", [](const Topology&, const CpuPlacement& p) { return std::to_string(p.package); },
     [](const protocol::ObservedCpu& o) { return text_of(o.package); }},
    {"die", "die", [](const Topology&, const CpuPlacement& p) { return std::to_string(p.die); },
     [](const protocol::ObservedCpu& o) { return text_of(o.die); }},
    {"core_id", "core", [](const Topology&, const CpuPlacement& p) { return std::to_string(p.core_id); },
     [](const protocol::ObservedCpu& o) { return text_of(o.core_id); }},
    {"thread_siblings", "siblings",
     [](const Topology& t, const CpuPlacement& p) { return kvm::format_cpu_list(t.thread_siblings(p.cpu)); },
     [](const protocol::ObservedCpu& o) { return text_of(o.thread_siblings); }},
    {"llc", "llc", [](const Topology& t, const CpuPlacement& p) { return kvm::format_cpu_list(t.llc_cpus(p.cpu)); },
     [](const protocol::ObservedCpu& o) { return text_of(o.llc); }},
    {"node", "node", [](const Topology&, const CpuPlacement& p) { return std::to_string(p.node); },
     [](const protocol::ObservedCpu& o) { return text_of(o.node); }},
};

std::string declared_online(const Topology& t) {
  std::vector<uint32_t> cpus;
  for (const auto& p : t.cpus()) cpus.push_back(p.cpu);
  return kvm::format_cpu_list(cpus);
}

std::map<uint32_t, const protocol::ObservedCpu*> by_cpu(const protocol::TopologyReport& report) {
  std::map<uint32_t, const protocol::ObservedCpu*> out;
  for (const auto& c : report.cpus) out.emplace(c.cpu, &c);
  return out;
}

// CPUs in either the declaration or the report, in order.
std::vector<uint32_t> all_cpus(const Topology& declared, const protocol::TopologyReport& observed) {
  std::vector<uint32_t> cpus;
  for (uint32_t c = 0; c < declared.cpu_count(); ++c) cpus.push_back(c);
  for (const auto& o : observed.cpus)
    if (o.cpu >= declared.cpu_count()) cpus.push_back(o.cpu);
  return cpus;
}

const TopologyMismatch* find_mismatch(const std::vector<TopologyMismatch>& mismatches, uint32_t cpu,
                                      std::string_view field) {
  for (const auto& m : mismatches)
    if (m.cpu == cpu && m.field == field) return &m;
  return nullptr;
}

}  // namespace

std::vector<TopologyMismatch> check_topology(const Topology& declared, const protocol::TopologyReport& observed) {
  std::vector<TopologyMismatch> out;
  auto online = text_of(observed.online);
  if (online != declared_online(declared))
    out.push_back({std::nullopt, "online", declared_online(declared), online.value_or(kMissing)});

  auto reported = by_cpu(observed);
  for (const auto& placement : declared.cpus()) {
    auto it = reported.find(placement.cpu);
    if (it == reported.end()) {
      out.push_back({placement.cpu, "cpu_entry", "reported", kMissing});
      continue;
    }
    for (const auto& field : kCpuFields) {
      auto want = field.declared(declared, placement);
      auto got = field.observed(*it->second);
      if (got != want) out.push_back({placement.cpu, field.name, want, got.value_or(kMissing)});
    }
  }
  for (const auto& o : observed.cpus)
    if (o.cpu >= declared.cpu_count()) out.push_back({o.cpu, "cpu_entry", "absent", "reported"});
  return out;
}

std::string render_topology_table(const Topology& declared, const protocol::TopologyReport& observed,
                                  const std::vector<TopologyMismatch>& mismatches) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header{"cpu"};
  for (const auto& field : kCpuFields) header.push_back(field.column);
  rows.push_back(header);

  std::vector<bool> marked{false};
  auto reported = by_cpu(observed);
  for (uint32_t cpu : all_cpus(declared, observed)) {
    std::vector<std::string> row{std::to_string(cpu)};
    const bool is_declared = cpu < declared.cpu_count();
    auto it = reported.find(cpu);
    for (const auto& field : kCpuFields) {
      auto want = is_declared ? std::optional(field.declared(declared, declared.cpu(cpu))) : std::nullopt;
      auto got = it != reported.end() ? field.observed(*it->second) : std::nullopt;
      if (want == got) row.push_back(want.value_or("-"));
      else row.push_back("want " + want.value_or("none") + " got " + got.value_or(kMissing));
    }
    rows.push_back(std::move(row));
    marked.push_back(find_mismatch(mismatches, cpu, "cpu_entry") ||
                     std::any_of(std::begin(kCpuFields), std::end(kCpuFields),
                                 [&](const CpuField& f) { return find_mismatch(mismatches, cpu, f.name); }));
  }

  std::vector<std::size_t> width(header.size(), 0);
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());

  std::string text;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    text += marked[r] ? "! " : "  ";
    for (std::size_t i = 0; i < rows[r].size(); ++i) {
      if (i) text += " | ";
      text += rows[r][i];
      if (i + 1 < rows[r].size()) text.append(width[i] - rows[r][i].size(), ' ');
    }
    text += '\n';
  }
  auto online = text_of(observed.online).value_or(kMissing);
  text += "online: declared " + declared_online(declared) + ", observed " + online + "\n";
  text += mismatches.empty() ? "topology matches the declaration\n"
                             : std::to_string(mismatches.size()) + " mismatch(es), rows marked with !\n";
  return text;
}

nlohmann::json topology_check_json(const Topology& declared, const protocol::TopologyReport& observed,
                                   const std::vector<TopologyMismatch>& mismatches) {
  using nlohmann::json;
  json declared_cpus = json::array();
  for (const auto& p : declared.cpus()) {
    json cpu = {{"cpu", p.cpu}, {"apic_id", p.apic_id}};
    for (const auto& field : kCpuFields) cpu[field.name] = field.declared(declared, p);
    declared_cpus.push_back(std::move(cpu));
  }
  json observed_cpus = json::array();
  for (const auto& o : observed.cpus) {
    json cpu = {{"cpu", o.cpu}, {"llc_level", o.llc_level ? json(*o.llc_level) : json(nullptr)}};
    for (const auto& field : kCpuFields) {
      auto text = field.observed(o);
      cpu[field.name] = text ? json(*text) : json(nullptr);
    }
    observed_cpus.push_back(std::move(cpu));
  }
  json list = json::array();
  for (const auto& m : mismatches)
    list.push_back({{"cpu", m.cpu ? json(*m.cpu) : json(nullptr)},
                    {"field", m.field},
                    {"declared", m.declared},
                    {"observed", m.observed}});
  auto optional_list = [](const auto& v) { return v ? json(kvm::format_cpu_list(*v)) : json(nullptr); };
  return {
      {"declared", {{"spec", declared.spec().to_string()}, {"online", declared_online(declared)}, {"cpus", declared_cpus}}},
      {"observed", {{"online", optional_list(observed.online)}, {"possible", optional_list(observed.possible)},
                    {"cpus", observed_cpus}}},
      {"mismatches", list},
      {"match", mismatches.empty()},
  };
}

}  // namespace ktstr::cli
