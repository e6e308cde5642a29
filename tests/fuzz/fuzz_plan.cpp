// The plan (host -> guest): any text parses without a crash; a plan that parses is written
// back and parses again to the same plan (the writer and the parser agree).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "apps/protocol/plan.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = ktstr::protocol::parse_plan(text);
  if (!r.plan) return 0;
  const auto written = ktstr::protocol::to_json(*r.plan).dump();
  auto again = ktstr::protocol::parse_plan(written);
  if (!again.plan || ktstr::protocol::to_json(*again.plan).dump() != written) std::abort();
  return 0;
}
