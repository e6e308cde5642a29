#pragma once
// Scenario files (TOML, docs/scenarios.md) -> Scenario. Checks everything that does not
// need the topology: types, ranges, unknown keys, cgroup references of the steps, the
// timeline. Every error is a ScenarioError "FILE:LINE: FIELD: problem".
#include <cstdint>
#include <string>
#include <string_view>

#include "apps/cli/scenario/scenario_model.hpp"

namespace ktstr::cli {

/// `file` names the source in errors (it is not read).
Scenario parse_scenario(std::string_view text, const std::string& file);

/// The largest scenario file read (the catalog's largest is a few KiB).
inline constexpr std::uintmax_t kMaxScenarioFileBytes = 1024 * 1024;

/// Reads and parses a file; an unreadable or larger file is a ScenarioError too.
Scenario parse_scenario_file(const std::string& path);

/// "10s", "500ms", "1.5m" -> milliseconds; nullopt when malformed.
std::optional<uint64_t> parse_duration_ms(std::string_view text);

}  // namespace ktstr::cli
