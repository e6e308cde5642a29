#pragma once
// The built-in scenarios (the files of scenarios/, embedded at build time) and the
// lookup behind --scenario: a built-in name or a scenario file path.
#include <string>
#include <string_view>
#include <vector>

#include "apps/cli/scenario/scenario_model.hpp"

namespace ktstr::cli {

struct CatalogEntry {
  std::string name;         ///< = the file's stem, e.g. "cpuset-resize"
  std::string description;
  ExpectedVerdict expect = ExpectedVerdict::pass;  ///< expected verdict under the kernel's built-in scheduler
  std::string source;       ///< the TOML text
  std::string file;         ///< "scenarios/<name>.toml", used in errors
};

/// Parsed once, sorted by name. Throws ScenarioError if a built-in file is broken
/// (the unit tests keep them valid).
const std::vector<CatalogEntry>& builtin_scenarios();

/// The built-in scenario `name_or_path` names, or nullptr when it names none (a name
/// containing '/' or ending in ".toml" never does: it is a path).
const CatalogEntry* builtin_scenario(const std::string& name_or_path);

/// A built-in name, else a path to a scenario file. Neither: ScenarioError listing
/// the built-in names. A name containing '/' or ending in ".toml" is always a path.
Scenario resolve_scenario(const std::string& name_or_path);

/// One embedded file (generated scenario_catalog_data.cpp).
struct EmbeddedScenario {
  std::string_view stem;
  std::string_view source;
};
const std::vector<EmbeddedScenario>& embedded_scenarios();

}  // namespace ktstr::cli
