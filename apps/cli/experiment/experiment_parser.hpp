#pragma once
// Experiment files (TOML) into the model, with the scenario files' error discipline: every
// problem is one ScenarioError "FILE:LINE: field: problem" (the command exits
// exit_experiment). Relative paths (kernel, scheduler, scenario file) are taken from the
// file's folder. Matrix cells are expanded here, so what runs is what the model lists.
#include <string>
#include <string_view>
#include <vector>

#include "apps/cli/experiment/experiment_model.hpp"

namespace ktstr::cli {

/// `base_dir`: where relative paths point (the file's folder; "" for built-ins).
Experiment parse_experiment(std::string_view text, const std::string& file, const std::string& base_dir);
Experiment parse_experiment_file(const std::string& path);

}  // namespace ktstr::cli
