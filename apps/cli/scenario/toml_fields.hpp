#pragma once
// Reading a TOML input file field by field with one error discipline: every problem is
// `FILE:LINE: field.path: problem` (SourceRef::fail), unknown keys are refused when a
// table is opened. Shared by the scenario and experiment parsers.
#include <toml++/toml.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "apps/cli/scenario/scenario_model.hpp"

namespace ktstr::cli::toml_fields {

inline uint32_t line_of(const toml::node& n) { return static_cast<uint32_t>(n.source().begin.line); }

inline std::string_view type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    default: return "a date/time";
  }
}

template <typename List>
std::string one_of(const List& names) {
  std::string out;
  for (auto n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

template <typename List>
bool contains(const List& names, std::string_view name) {
  return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

// Whole numbers as digits (3600000, not 3.6e+06); fractions as written.
inline std::string number_text(double v) {
  std::ostringstream s;
  s.precision(15);
  s << v;
  return s.str();
}

/// One TOML table with its field path ("cgroup[1].workers[0]"). Unknown keys are
/// rejected when it is opened, so a typo is reported before anything it causes.
class Fields {
 public:
  Fields(const std::string& file, const toml::table& table, std::string path,
         const std::vector<std::string_view>& allowed)
      : file_(file), table_(table), path_(std::move(path)) {
    for (auto&& [key, value] : table_) {
      if (!contains(allowed, key.str())) {
        uint32_t line = static_cast<uint32_t>(key.source().begin.line);
        SourceRef{file_, line ? line : line_of(value), field(key.str())}.fail(
            "unknown key (expected one of: " + one_of(allowed) + ")");
      }
    }
  }

  std::string field(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }
  const std::string& path() const { return path_; }
  const std::string& file() const { return file_; }
  const toml::node* find(std::string_view key) const { return table_.get(key); }
  bool has(std::string_view key) const { return find(key) != nullptr; }

  /// The table itself (line of its header or opening brace).
  SourceRef self() const {
    uint32_t line = line_of(table_);
    return {file_, line ? line : 1, path_};
  }
  /// A key's value, or the table when the key is missing.
  SourceRef at(std::string_view key) const {
    auto* n = find(key);
    uint32_t line = n ? line_of(*n) : line_of(table_);
    return {file_, line ? line : 1, field(key)};
  }
  [[noreturn]] void fail(std::string_view key, std::string_view problem) const { at(key).fail(problem); }

  const toml::node& required(std::string_view key) const {
    auto* n = find(key);
    if (!n) fail(key, "missing");
    return *n;
  }

  std::optional<std::string> string(std::string_view key) const {
    auto* n = find(key);
    if (!n) return std::nullopt;
    if (!n->is_string()) fail(key, "expected a string, got " + std::string(type_name(*n)));
    return n->as_string()->get();
  }

  std::optional<bool> boolean(std::string_view key) const {
    auto* n = find(key);
    if (!n) return std::nullopt;
    if (!n->is_boolean()) fail(key, "expected true or false, got " + std::string(type_name(*n)));
    return n->as_boolean()->get();
  }

  std::optional<int64_t> integer(std::string_view key, int64_t lo, int64_t hi) const {
    auto* n = find(key);
    if (!n) return std::nullopt;
    if (!n->is_integer()) fail(key, "expected an integer, got " + std::string(type_name(*n)));
    int64_t v = n->as_integer()->get();
    if (v < lo || v > hi)
      fail(key, std::to_string(v) + " is out of range (" + std::to_string(lo) + ".." + std::to_string(hi) + ")");
    return v;
  }

  std::optional<double> number(std::string_view key, double lo, double hi) const {
    auto* n = find(key);
    if (!n) return std::nullopt;
    return number_of(*n, field(key), lo, hi);
  }

  double number_of(const toml::node& n, const std::string& name, double lo, double hi) const {
    double v = 0;
    if (n.is_integer())
      v = static_cast<double>(n.as_integer()->get());
    else if (n.is_floating_point())
      v = n.as_floating_point()->get();
    else
      SourceRef{file_, line_of(n), name}.fail("expected a number, got " + std::string(type_name(n)));
    if (!(v >= lo && v <= hi))
      SourceRef{file_, line_of(n), name}.fail(number_text(v) + " is out of range (" + number_text(lo) + ".." +
                                              number_text(hi) + ")");
    return v;
  }

  const toml::array* array(std::string_view key) const {
    auto* n = find(key);
    if (!n) return nullptr;
    if (!n->is_array()) fail(key, "expected an array, got " + std::string(type_name(*n)));
    return n->as_array();
  }

  /// An array of strings (absent: empty).
  std::vector<std::string> strings(std::string_view key) const {
    std::vector<std::string> out;
    const auto* a = array(key);
    if (!a) return out;
    for (const auto& item : *a) {
      if (!item.is_string()) fail(key, "expected strings, got " + std::string(type_name(item)));
      out.push_back(item.as_string()->get());
    }
    return out;
  }

  const toml::table* table(std::string_view key) const {
    auto* n = find(key);
    if (!n) return nullptr;
    if (!n->is_table()) fail(key, "expected a table, got " + std::string(type_name(*n)));
    return n->as_table();
  }

  /// The i-th element of an array that must hold tables.
  const toml::table& table_at(const toml::array& array, size_t i, const std::string& name) const {
    const auto& n = array[i];
    if (!n.is_table())
      SourceRef{file_, line_of(n), name}.fail("expected a table, got " + std::string(type_name(n)));
    return *n.as_table();
  }

 private:
  const std::string& file_;
  const toml::table& table_;
  std::string path_;
};

inline std::string indexed(const std::string& base, size_t i) { return base + "[" + std::to_string(i) + "]"; }

/// A TOML syntax error as one line: "FILE:LINE: syntax: what".
inline std::string syntax_error_line(const toml::parse_error& e, const std::string& file) {
  const auto& begin = e.source().begin;
  std::string msg = file;
  if (begin.line > 0) msg += ':' + std::to_string(begin.line);
  msg += ": syntax: ";
  msg += e.description();
  return msg;
}

}  // namespace ktstr::cli::toml_fields
