#pragma once
// The one filter for untrusted text (guest console, agent lines, nested-host status)
// before it reaches a terminal, a log or a report: printable ASCII and tab stay, every
// other byte (controls, escape sequences, DEL, non-ASCII) is replaced, so guest output
// cannot drive the reader's terminal. Header-only, no dependencies (the static agent and
// nested init use it too).
#include <cstddef>
#include <string>
#include <string_view>

namespace ktstr::protocol {

/// Printable ASCII (0x20..0x7e) or tab.
constexpr bool is_printable(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= 0x20 && u < 0x7f) || c == '\t';
}

/// At most `max_chars` bytes of `text`, each byte that is not printable as '?'.
inline std::string printable(std::string_view text, std::size_t max_chars = std::string_view::npos) {
  std::string out(text.substr(0, max_chars));
  for (char& c : out)
    if (!is_printable(c)) c = '?';
  return out;
}

/// For error messages that quote untrusted text: like printable, but a byte that is not
/// printable shows as \xNN (tab too), and "..." marks a cut.
inline std::string printable_excerpt(std::string_view text, std::size_t max_chars = 80) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : text.substr(0, max_chars)) {
    const auto u = static_cast<unsigned char>(c);
    if (is_printable(c) && c != '\t') {
      out += c;
    } else {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  if (text.size() > max_chars) out += "...";
  return out;
}

}  // namespace ktstr::protocol
