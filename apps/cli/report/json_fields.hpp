#pragma once
// Reading a result JSON that may be partial, older or written by a hostile guest: every
// accessor checks the type and answers "absent" rather than throwing or inserting.
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ktstr::cli {

/// j[key] when j is an object that holds it, else a shared null.
inline const nlohmann::json& field(const nlohmann::json& j, std::string_view key) {
  static const nlohmann::json absent;
  if (!j.is_object()) return absent;
  auto it = j.find(key);
  return it == j.end() ? absent : *it;
}

/// j[key] when it is an array, else a shared empty array (for range-for loops).
inline const nlohmann::json& array_field(const nlohmann::json& j, std::string_view key) {
  static const nlohmann::json empty = nlohmann::json::array();
  const auto& v = field(j, key);
  return v.is_array() ? v : empty;
}

/// A finite number, or nullopt (null, missing, a string, NaN cannot come from JSON but
/// an in-memory result may hold one).
inline std::optional<double> number(const nlohmann::json& j) {
  if (!j.is_number()) return std::nullopt;
  const double v = j.get<double>();
  return std::isfinite(v) ? std::optional<double>(v) : std::nullopt;
}

inline std::optional<double> number(const nlohmann::json& j, std::string_view key) { return number(field(j, key)); }

/// A non-negative integer that fits `limit`, or nullopt (a guest CPU number of 4e9 is no lane).
inline std::optional<uint64_t> index(const nlohmann::json& j, uint64_t limit) {
  if (!j.is_number_integer()) return std::nullopt;
  if (j.is_number_unsigned()) {
    const auto v = j.get<uint64_t>();
    return v < limit ? std::optional<uint64_t>(v) : std::nullopt;
  }
  const auto v = j.get<int64_t>();
  return v >= 0 && static_cast<uint64_t>(v) < limit ? std::optional<uint64_t>(v) : std::nullopt;
}

/// The string, or `otherwise` for anything else.
inline std::string text(const nlohmann::json& j, std::string_view key, std::string otherwise = {}) {
  const auto& v = field(j, key);
  return v.is_string() ? v.get<std::string>() : otherwise;
}

/// A scalar as short text for a tooltip or a cell: strings as they are, numbers and
/// booleans in JSON form, null/missing as "".
inline std::string scalar_text(const nlohmann::json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_number() || j.is_boolean()) return j.dump();
  return {};
}

}  // namespace ktstr::cli
