#include "apps/cli/scenario/scenario_catalog.hpp"

#include <filesystem>

#include "apps/cli/scenario/scenario_parser.hpp"

namespace ktstr::cli {

namespace {

std::string builtin_file(std::string_view stem) { return "scenarios/" + std::string(stem) + ".toml"; }

std::string builtin_names() {
  std::string out;
  for (const auto& e : builtin_scenarios()) out += (out.empty() ? "" : ", ") + e.name;
  return out;
}

}  // namespace

const std::vector<CatalogEntry>& builtin_scenarios() {
  static const std::vector<CatalogEntry> entries = [] {
    std::vector<CatalogEntry> out;
    for (const auto& file : embedded_scenarios()) {
      auto path = builtin_file(file.stem);
      auto scenario = parse_scenario(file.source, path);
      if (scenario.name != file.stem)
        throw ScenarioError(path + ":1: name: \"" + scenario.name + "\" differs from the file name");
      out.push_back({scenario.name, scenario.description, scenario.expect, std::string(file.source), path});
    }
    return out;
  }();
  return entries;
}

const CatalogEntry* builtin_scenario(const std::string& name_or_path) {
  if (name_or_path.find('/') != std::string::npos || name_or_path.ends_with(".toml")) return nullptr;
  for (const auto& e : builtin_scenarios())
    if (e.name == name_or_path) return &e;
  return nullptr;
}

Scenario resolve_scenario(const std::string& name_or_path) {
  if (const CatalogEntry* e = builtin_scenario(name_or_path)) return parse_scenario(e->source, e->file);
  std::error_code ec;
  if (std::filesystem::is_regular_file(name_or_path, ec)) return parse_scenario_file(name_or_path);
  // A name that can only be a path (docs/scenarios.md: a '/' or a .toml) is a missing file.
  if (name_or_path.find('/') != std::string::npos || name_or_path.ends_with(".toml"))
    throw ScenarioError("scenario file " + name_or_path + ": no such file");
  throw ScenarioError("scenario \"" + name_or_path + "\": neither a built-in scenario (" + builtin_names() +
                      ") nor a scenario file");
}

}  // namespace ktstr::cli
