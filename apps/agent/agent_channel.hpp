#pragma once
// The agent's side of the protocol: one compact JSON object per line on COM2, each
// with "event" and a "seq" that grows by one per line so the host can see lost lines.
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "apps/protocol/agent_events.hpp"

namespace ktstr::agent {

/// ordered_json keeps "event" and "seq" first, which makes raw logs readable.
using Json = nlohmann::ordered_json;

class AgentChannel {
 public:
  /// Opens /dev/ttyS1 in raw mode, else /dev/console. Returns why COM2 was not used.
  std::optional<std::string> open();
  /// Host test mode: lines go to stdout, no commands are read.
  void open_stdout();

  /// Writes the event as one line (protocol::to_json) with the next seq; the event's own
  /// seq is ignored. Never throws; a dead channel drops lines. Thread-safe: lines of
  /// concurrent callers never interleave and seq stays ordered.
  void emit(const protocol::AgentEvent& event);
  /// Emits {"event":"agent_error","message":message}, copied to stderr if on COM2.
  void emit_error(const std::string& message);
  /// Waits up to timeout_ms for the host's stop line (protocol::kStopCommand) on COM2. Call it from one
  /// thread only.
  bool wait_for_stop(int timeout_ms);

 private:
  void write_all(const std::string& line);

  int fd_ = -1;
  bool on_com2_ = false;
  uint64_t seq_ = 0;
  std::mutex mutex_;  ///< seq_ and writes
  std::string input_;
};

}  // namespace ktstr::agent
