// A scenario file (the user's TOML): parsed into a scenario or refused with one line
// (ScenarioError), never another exception or a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "apps/cli/scenario/scenario_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    (void)ktstr::cli::parse_scenario(text, "fuzz.toml");
  } catch (const ktstr::cli::ScenarioError&) {
  }
  (void)ktstr::cli::parse_duration_ms(text);
  return 0;
}
