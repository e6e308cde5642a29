#pragma once
// The whole COM2 conversation: bytes in, events and protocol errors out, in order.
// Adds what a single line cannot show: lost, repeated or reordered lines (by seq).
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "apps/protocol/agent_line_assembler.hpp"
#include "apps/protocol/agent_events.hpp"

namespace ktstr::protocol {

class AgentStream {
 public:
  explicit AgentStream(std::size_t max_line_bytes = LineAssembler::kMaxLineBytes) : lines_(max_line_bytes) {}

  /// Feeds raw COM2 bytes; returns what the completed lines held.
  std::vector<ParsedLine> feed(std::string_view bytes);
  /// The guest is gone: reports a partial last line.
  std::vector<ParsedLine> finish();
  /// One line someone else cut (the console actor, with its own LineAssembler): parsed,
  /// with the seq check.
  std::vector<ParsedLine> line(std::string_view text);

 private:
  void take(GuestLine line, std::vector<ParsedLine>& out);
  void check_seq(const AgentEvent& event, std::vector<ParsedLine>& out);

  LineAssembler lines_;
  std::optional<uint64_t> last_seq_;
};

}  // namespace ktstr::protocol
