// The agent's stream (guest -> host), hostile: bytes cut into pieces at places the input
// chooses, through the line assembler, the event parser and the seq check; every event
// that parses is written back and parses to the same line.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "apps/protocol/agent_stream.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 64;  // the first byte: how the UART's bytes arrive
  ktstr::protocol::AgentStream stream(4096);
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  auto check = [](const std::vector<ktstr::protocol::ParsedLine>& lines) {
    for (const auto& l : lines)
      if (const auto* e = std::get_if<ktstr::protocol::AgentEvent>(&l)) {
        const auto line = ktstr::protocol::to_json(*e).dump();
        auto back = ktstr::protocol::parse_agent_line(line);
        const auto* again = std::get_if<ktstr::protocol::AgentEvent>(&back);
        if (!again || ktstr::protocol::to_json(*again).dump() != line) std::abort();
      }
  };
  while (!rest.empty()) {
    const auto n = std::min(piece, rest.size());
    check(stream.feed(rest.substr(0, n)));
    rest.remove_prefix(n);
  }
  check(stream.finish());
  return 0;
}
