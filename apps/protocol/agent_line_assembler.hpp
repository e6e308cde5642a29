#pragma once
// Cuts the agent's COM2 byte stream into lines. The guest is untrusted: a line is
// bounded, and a guest that never sends '\n' costs at most one line of memory.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ktstr::protocol {

struct GuestLine {
  enum class Fault {
    none,          ///< a complete line, in text
    overlong,      ///< longer than the bound: dropped, text is empty
    unterminated,  ///< the stream ended mid-line: text holds what arrived
  };
  std::string text;   ///< the line without '\n' (and without a trailing '\r')
  Fault fault = Fault::none;
  std::size_t bytes = 0;  ///< length of the line as sent, also for dropped lines
};

class LineAssembler {
 public:
  static constexpr std::size_t kMaxLineBytes = 1 << 20;

  explicit LineAssembler(std::size_t max_line_bytes = kMaxLineBytes) : max_line_bytes_(max_line_bytes) {}

  /// Takes raw bytes in any chunking; returns the lines they complete, in order.
  /// Empty lines are skipped: a stray newline carries nothing.
  std::vector<GuestLine> feed(std::string_view bytes);

  std::size_t max_line_bytes() const { return max_line_bytes_; }

  /// End of stream: the partial last line, if any bytes of it arrived.
  std::vector<GuestLine> finish();

 private:
  void complete_line(std::vector<GuestLine>& out);

  std::size_t max_line_bytes_;
  std::string partial_;
  bool dropping_ = false;       ///< the current line went over the bound
  std::size_t line_bytes_ = 0;  ///< bytes of the current line so far, kept or not
};

}  // namespace ktstr::protocol
