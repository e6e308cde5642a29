#include "apps/cli/experiment/experiment_catalog.hpp"

namespace ktstr::cli {

const std::vector<ExperimentEntry>& builtin_experiments() {
  static const std::vector<ExperimentEntry> entries = [] {
    std::vector<ExperimentEntry> out;
    for (const auto& e : embedded_experiments())
      out.push_back({std::string(e.stem), std::string(e.source), "experiments/" + std::string(e.stem) + ".toml"});
    return out;
  }();
  return entries;
}

const ExperimentEntry* builtin_experiment(const std::string& name) {
  for (const auto& e : builtin_experiments())
    if (e.name == name) return &e;
  return nullptr;
}

}  // namespace ktstr::cli
