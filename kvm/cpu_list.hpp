#pragma once
// Linux CPU list text ("0-3,6", as in /sys and cpuset.cpus): the one writer and the one
// reader. Header-only and free of dependencies: the host and the static guest agent both
// use it.
#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ktstr::kvm {

/// "0-3,6" for {0,1,2,3,6}; "" for none. Input sorted ascending, without duplicates.
template <typename Int>
std::string format_sorted_cpu_list(const std::vector<Int>& cpus) {
  std::string out;
  for (std::size_t i = 0; i < cpus.size();) {
    std::size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(cpus[i]);
    if (j > i) out += '-' + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

/// "0-3,6" -> {0,1,2,3,6}, sorted; "" (or only a trailing newline/space) -> {}.
/// nullopt for anything else: a malformed item, a range backwards, a CPU above max_cpu,
/// a CPU listed twice. Strict, because the text may come from the guest.
inline std::optional<std::vector<uint32_t>> parse_cpu_list(std::string_view text, uint32_t max_cpu = 4095) {
  auto number = [](std::string_view s) -> std::optional<uint32_t> {
    uint32_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
  };
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  std::vector<uint32_t> out;
  if (text.empty()) return out;
  while (true) {
    auto comma = text.find(',');
    auto item = text.substr(0, comma);
    auto dash = item.find('-');
    auto lo = number(item.substr(0, dash));
    auto hi = dash == std::string_view::npos ? lo : number(item.substr(dash + 1));
    if (!lo || !hi || *lo > *hi || *hi > max_cpu) return std::nullopt;
    for (uint32_t c = *lo; c <= *hi; ++c) out.push_back(c);
    if (comma == std::string_view::npos) break;
    text = text.substr(comma + 1);
  }
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end()) return std::nullopt;
  return out;
}

}  // namespace ktstr::kvm
