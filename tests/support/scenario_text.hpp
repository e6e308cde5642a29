#pragma once
// Scenario files as test text: what the host's parser says of them.
#include <string>

#include "apps/cli/scenario/scenario_parser.hpp"

namespace ktstr::test {

/// The error message a scenario text (named "t.toml") gives; "" when it parses.
inline std::string parse_error(const std::string& text) {
  try {
    cli::parse_scenario(text, "t.toml");
  } catch (const cli::ScenarioError& e) {
    return e.what();
  }
  return "";
}

}  // namespace ktstr::test
