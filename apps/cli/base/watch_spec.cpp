#include "apps/cli/base/watch_spec.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

namespace ktstr::cli {

namespace {

bool symbol_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'; }

}  // namespace

std::optional<uint64_t> parse_whole_number(std::string_view s) {
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s.remove_prefix(2);
    base = 16;
  }
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::variant<WatchSpec, std::string> parse_watch_spec(std::string_view text) {
  WatchSpec w;
  std::string_view rest = text;
  if (auto comma = rest.find(','); comma != std::string_view::npos) {
    if (rest.substr(comma + 1) != "freeze") return std::string("the only flag after ',' is freeze");
    w.freeze = true;
    rest = rest.substr(0, comma);
  }
  if (auto colon = rest.find(':'); colon != std::string_view::npos) {
    auto len = parse_whole_number(rest.substr(colon + 1));
    if (!len || (*len != 1 && *len != 2 && *len != 4 && *len != 8))
      return std::string("the length after ':' is 1, 2, 4 or 8 bytes");
    w.length = static_cast<uint32_t>(*len);
    rest = rest.substr(0, colon);
  }
  if (auto plus = rest.find('+'); plus != std::string_view::npos) {
    auto off = parse_whole_number(rest.substr(plus + 1));
    if (!off || *off > (1u << 20)) return std::string("the offset after '+' is a number up to 1 MiB (e.g. +0x10)");
    w.offset = *off;
    rest = rest.substr(0, plus);
  }
  if (rest.empty() || rest.size() > 128 || !std::all_of(rest.begin(), rest.end(), symbol_char))
    return std::string("expected SYMBOL[+OFFSET][:LEN][,freeze], e.g. total_forks:8 or scx_watchdog_timestamp,freeze");
  w.symbol = std::string(rest);
  return w;
}

}  // namespace ktstr::cli
