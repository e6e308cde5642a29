#pragma once
// Test helpers for agent lines (apps/protocol/agent_events.hpp): the parsed event of a
// line that must be valid, the error of one that must not be.
#include <catch2/catch.hpp>

#include <string>
#include <variant>

#include "apps/protocol/agent_events.hpp"

namespace ktstr::test {

template <class T>
T event_of(const std::string& line) {
  auto parsed = protocol::parse_agent_line(line);
  INFO(line);
  if (auto* error = std::get_if<protocol::ProtocolError>(&parsed)) FAIL("unexpected protocol error: " << error->message);
  auto& event = std::get<protocol::AgentEvent>(parsed);
  REQUIRE(std::holds_alternative<T>(event));
  return std::get<T>(event);
}

inline std::string error_of(const std::string& line) {
  auto parsed = protocol::parse_agent_line(line);
  INFO(line);
  REQUIRE(std::holds_alternative<protocol::ProtocolError>(parsed));
  return std::get<protocol::ProtocolError>(parsed).message;
}

}  // namespace ktstr::test
