#include "apps/cli/kernel/kconfig.hpp"

namespace ktstr::cli {

namespace {
constexpr std::string_view prefix = "CONFIG_";

bool symbol_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}
}  // namespace

Kconfig parse_kconfig(std::string_view text) {
  Kconfig out;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    bool not_set = false;
    if (line.rfind("# ", 0) == 0) {
      constexpr std::string_view tail = " is not set";
      if (line.size() < tail.size() || line.substr(line.size() - tail.size()) != tail) continue;
      line = line.substr(2, line.size() - 2 - tail.size());
      not_set = true;
    }
    if (line.rfind(prefix, 0) != 0) continue;
    std::size_t end = prefix.size();
    while (end < line.size() && symbol_char(line[end])) ++end;
    if (end == prefix.size()) continue;
    std::string symbol(line.substr(prefix.size(), end - prefix.size()));
    if (not_set) {
      if (end == line.size()) out[symbol] = "n";
      continue;
    }
    if (end >= line.size() || line[end] != '=') continue;
    std::string value(trim(line.substr(end + 1)));
    out[symbol] = value.empty() ? "n" : value;
  }
  return out;
}

std::string kconfig_value(const Kconfig& config, const std::string& symbol) {
  auto it = config.find(symbol);
  return it == config.end() ? "n" : it->second;
}

std::vector<KconfigMismatch> verify_fragment(const Kconfig& fragment, const Kconfig& config) {
  std::vector<KconfigMismatch> out;
  for (const auto& [symbol, wanted] : fragment) {
    std::string got = kconfig_value(config, symbol);
    if (got == wanted) continue;
    out.push_back({symbol, wanted, got, wanted != "n"});
  }
  return out;
}

std::string describe(const KconfigMismatch& m) {
  std::string want = m.wanted == "n" ? "is not set" : "=" + m.wanted;
  std::string got = m.got == "n" ? "not set" : m.got;
  return "CONFIG_" + m.symbol + (m.wanted == "n" ? " " : "") + want + " (got: " + got + ")";
}

bool has_sched_ext(const Kconfig& config) { return kconfig_value(config, "SCHED_CLASS_EXT") == "y"; }

}  // namespace ktstr::cli
