#pragma once
// Declared topology (what the VMM told the guest through CPUID and ACPI) against the
// topology the guest kernel reports from sysfs, field by field.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/protocol/agent_events.hpp"
#include "kvm/topology.hpp"

namespace ktstr::cli {

struct TopologyMismatch {
  std::optional<uint32_t> cpu;  ///< empty for whole-system fields ("online")
  std::string field;            ///< online, cpu_entry, package, die, core_id, thread_siblings, llc, node
  std::string declared;
  std::string observed;         ///< "missing" when the guest did not report the field
  bool operator==(const TopologyMismatch&) const = default;
};

/// Every difference between declared and observed; empty when they agree.
std::vector<TopologyMismatch> check_topology(const kvm::Topology& declared, const protocol::TopologyReport& observed);

/// A table "cpu | package | die | core | siblings | llc | node", one row per CPU;
/// a mismatching cell reads "want <declared> got <observed>" and the row is marked.
std::string render_topology_table(const kvm::Topology& declared, const protocol::TopologyReport& observed,
                                  const std::vector<TopologyMismatch>& mismatches);

/// {"declared": {...}, "observed": {...}, "mismatches": [...], "match": bool} for the run report.
nlohmann::json topology_check_json(const kvm::Topology& declared, const protocol::TopologyReport& observed,
                                   const std::vector<TopologyMismatch>& mismatches);

}  // namespace ktstr::cli
