#include "kvm/guest_kernel/word_condition.hpp"

#include <array>
#include <charconv>
#include <utility>

namespace ktstr::guest_kernel {
namespace {

using Op = WordCondition::Op;
// Two-character operators first, so "<=" is not read as "<".
constexpr std::array<std::pair<std::string_view, Op>, 6> kOps{{
    {"==", Op::eq}, {"!=", Op::ne}, {"<=", Op::le}, {">=", Op::ge}, {"<", Op::lt}, {">", Op::gt}}};

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool WordCondition::holds(uint64_t word) const {
  switch (op) {
    case Op::eq: return word == value;
    case Op::ne: return word != value;
    case Op::lt: return word < value;
    case Op::le: return word <= value;
    case Op::gt: return word > value;
    case Op::ge: return word >= value;
  }
  return false;
}

std::string WordCondition::text() const {
  for (const auto& [name, o] : kOps)
    if (o == op) return std::string(name) + " " + std::to_string(value);
  return "?";
}

std::optional<WordCondition> parse_word_condition(std::string_view text) {
  text = trimmed(text);
  for (const auto& [name, op] : kOps) {
    if (text.substr(0, name.size()) != name) continue;
    auto number = trimmed(text.substr(name.size()));
    int base = 10;
    if (number.size() > 2 && number[0] == '0' && (number[1] == 'x' || number[1] == 'X')) {
      number.remove_prefix(2);
      base = 16;
    }
    WordCondition c{op, 0};
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), c.value, base);
    if (number.empty() || ec != std::errc() || end != number.data() + number.size()) return std::nullopt;
    return c;
  }
  return std::nullopt;
}

}  // namespace ktstr::guest_kernel
