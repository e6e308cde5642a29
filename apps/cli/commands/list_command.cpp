#include "apps/cli/commands/list_command.hpp"

#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "apps/cli/base/exit_codes.hpp"
#include "apps/cli/scenario/scenario_catalog.hpp"

namespace ktstr::cli {

int list_main(bool json) {
  const auto& catalog = builtin_scenarios();
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : catalog) {
      const Scenario s = resolve_scenario(e.name);
      out.push_back({{"name", e.name},
                     {"description", e.description},
                     {"expect", std::string(to_string(e.expect))},
                     {"duration_s", s.duration_ms / 1000.0},
                     {"file", e.file}});
    }
    std::cout << out.dump(2) << "\n";
    return exit_pass;
  }
  std::cout << fmt::format("{:<20} {:<8} {:>6}  {}\n", "SCENARIO", "EXPECT", "TIME", "DESCRIPTION");
  for (const auto& e : catalog) {
    const Scenario s = resolve_scenario(e.name);
    std::cout << fmt::format("{:<20} {:<8} {:>5.0f}s  {}\n", e.name, to_string(e.expect), s.duration_ms / 1000.0,
                             e.description);
  }
  std::cout << "(expected verdicts are under the kernel's built-in scheduler; run one with "
               "`ktstr-actors run --scenario NAME`)\n";
  return exit_pass;
}

}  // namespace ktstr::cli
