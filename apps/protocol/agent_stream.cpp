#include "apps/protocol/agent_stream.hpp"

#include <string>

namespace ktstr::protocol {

std::vector<ParsedLine> AgentStream::feed(std::string_view bytes) {
  std::vector<ParsedLine> out;
  for (auto& line : lines_.feed(bytes)) take(std::move(line), out);
  return out;
}

std::vector<ParsedLine> AgentStream::finish() {
  std::vector<ParsedLine> out;
  for (auto& line : lines_.finish()) take(std::move(line), out);
  return out;
}

std::vector<ParsedLine> AgentStream::line(std::string_view text) {
  std::vector<ParsedLine> out;
  take(GuestLine{std::string(text), GuestLine::Fault::none, text.size()}, out);
  return out;
}

void AgentStream::take(GuestLine line, std::vector<ParsedLine>& out) {
  switch (line.fault) {
    case GuestLine::Fault::overlong:
      out.push_back(ProtocolError{"dropped a line of " + std::to_string(line.bytes) + " bytes (limit " +
                                  std::to_string(lines_.max_line_bytes()) + ")"});
      return;
    case GuestLine::Fault::unterminated:
      out.push_back(ProtocolError{"stream ended inside a line of " + std::to_string(line.bytes) +
                                  " bytes: \"" + printable_excerpt(line.text) + "\""});
      return;
    case GuestLine::Fault::none:
      break;
  }
  auto parsed = parse_agent_line(line.text);
  if (auto* event = std::get_if<AgentEvent>(&parsed)) {
    check_seq(*event, out);
  } else {
    auto& error = std::get<ProtocolError>(parsed);
    error.message += " in line \"" + printable_excerpt(line.text) + "\"";
  }
  out.push_back(std::move(parsed));
}

// The agent numbers lines 0, 1, 2, ...: a gap means lines were lost (or dropped
// above), a step back means a replayed or reordered line.
void AgentStream::check_seq(const AgentEvent& event, std::vector<ParsedLine>& out) {
  const uint64_t seq = event_seq(event);
  const uint64_t expected = last_seq_ ? *last_seq_ + 1 : 0;
  if (seq != expected)
    out.push_back(ProtocolError{std::string(event_name(event)) + ": seq " + std::to_string(seq) + " where " +
                                std::to_string(expected) + " was expected"});
  if (!last_seq_ || seq > *last_seq_) last_seq_ = seq;
}

}  // namespace ktstr::protocol
