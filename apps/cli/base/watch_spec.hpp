#pragma once
// The text of a watched kernel word, SYMBOL[+OFFSET][:LEN][,freeze]: `run --watch` and a
// scenario's `watch` op (its `word`) write it the same way; one parser for both. Resolving
// the symbol needs the kernel (apps/cli/vm/watch_option).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace ktstr::cli {

struct WatchSpec {
  std::string symbol;
  uint64_t offset = 0;
  uint32_t length = 8;
  bool freeze = false;
};

/// A whole number as these specs write it: decimal, or hex after 0x/0X; nullopt for
/// anything else (empty, signs, trailing text, out of range). Also the fault specs' numbers.
std::optional<uint64_t> parse_whole_number(std::string_view text);

/// The spec, or why it is malformed (one clause, e.g. "the length after ':' is 1, 2, 4 or 8 bytes").
std::variant<WatchSpec, std::string> parse_watch_spec(std::string_view text);

}  // namespace ktstr::cli
