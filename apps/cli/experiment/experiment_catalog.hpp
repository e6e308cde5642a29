#pragma once
// The built-in experiments: the files of experiments/, embedded at build time.
#include <string>
#include <string_view>
#include <vector>

namespace ktstr::cli {

struct ExperimentEntry {
  std::string name;    ///< the file's stem
  std::string source;  ///< the TOML text
  std::string file;    ///< "experiments/<name>.toml", used in errors
};

const std::vector<ExperimentEntry>& builtin_experiments();
/// nullptr when `name` names none.
const ExperimentEntry* builtin_experiment(const std::string& name);

struct EmbeddedExperiment {
  std::string_view stem;
  std::string_view source;
};
const std::vector<EmbeddedExperiment>& embedded_experiments();

}  // namespace ktstr::cli
