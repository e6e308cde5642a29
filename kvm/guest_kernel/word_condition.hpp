#pragma once
// A condition on a watched kernel word's value (a scenario's `watch` op, `when = ">= 100"`):
// a change is reported only when the new value meets it. One definition for the scenario
// parser that reads it and the monitor that applies it.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ktstr::guest_kernel {

struct WordCondition {
  enum class Op : uint8_t { eq, ne, lt, le, gt, ge };
  Op op = Op::eq;
  uint64_t value = 0;

  bool holds(uint64_t word) const;
  /// As written: ">= 100".
  std::string text() const;
};

/// "OP VALUE" with OP one of == != < <= > >= and VALUE an unsigned decimal or 0x-hex
/// number (spaces around either are fine); nullopt when it is not that.
std::optional<WordCondition> parse_word_condition(std::string_view text);

}  // namespace ktstr::guest_kernel
