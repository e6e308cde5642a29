#pragma once
// std::optional message fields: CAF 0.17 inspects only caf::optional, so these overloads
// write a present flag, then the value only when it is set.
#include <optional>
#include <type_traits>
#include <utility>

namespace ktstr::msg {

/// Reads a present flag, then the value only when it is set.
template <class T>
struct optional_field {
  bool& present;
  T& value;
  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, optional_field& x) {
    return x.present ? f(x.value) : f();
  }
};

template <class Inspector, class T>
typename std::enable_if<Inspector::reads_state, typename Inspector::result_type>::type inspect(
    Inspector& f, std::optional<T>& x) {
  return x ? f(true, *x) : f(false);
}

template <class Inspector, class T>
typename std::enable_if<Inspector::writes_state, typename Inspector::result_type>::type inspect(
    Inspector& f, std::optional<T>& x) {
  bool present = false;
  T value{};
  optional_field<T> field{present, value};
  auto result = f(present, field);
  if (present) x = std::move(value);
  else x.reset();
  return result;
}

}  // namespace ktstr::msg
