#include "apps/cli/vm/watch_option.hpp"

#include <charconv>

#include "apps/cli/base/exit_codes.hpp"
#include "apps/protocol/printable.hpp"
#include "kvm/hex.hpp"

namespace ktstr::cli {

namespace {

constexpr uint64_t kKernelImage = 0xffffffff80000000ull;  // __START_KERNEL_map

Refusal refused(const std::string& text, const std::string& why) {
  return {exit_watch, "--watch " + protocol::printable_excerpt(text, 80) + ": " + why};
}

std::optional<uint64_t> number(std::string_view s) {
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

bool symbol_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'; }

}  // namespace

std::variant<WatchSpec, Refusal> parse_watch(const std::string& text) {
  WatchSpec w;
  std::string_view rest = text;
  if (auto comma = rest.find(','); comma != std::string_view::npos) {
    if (rest.substr(comma + 1) != "freeze") return refused(text, "the only flag after ',' is freeze");
    w.freeze = true;
    rest = rest.substr(0, comma);
  }
  if (auto colon = rest.find(':'); colon != std::string_view::npos) {
    auto len = number(rest.substr(colon + 1));
    if (!len || (*len != 1 && *len != 2 && *len != 4 && *len != 8))
      return refused(text, "the length after ':' is 1, 2, 4 or 8 bytes");
    w.length = static_cast<uint32_t>(*len);
    rest = rest.substr(0, colon);
  }
  if (auto plus = rest.find('+'); plus != std::string_view::npos) {
    auto off = number(rest.substr(plus + 1));
    if (!off || *off > (1u << 20)) return refused(text, "the offset after '+' is a number up to 1 MiB (e.g. +0x10)");
    w.offset = *off;
    rest = rest.substr(0, plus);
  }
  if (rest.empty() || rest.size() > 128 || !std::all_of(rest.begin(), rest.end(), symbol_char))
    return refused(text, "expected SYMBOL[+OFFSET][:LEN][,freeze], e.g. total_forks:8 or scx_watchdog_timestamp,freeze");
  w.symbol = std::string(rest);
  return w;
}

std::variant<std::vector<actors::WatchConfig>, Refusal> resolve_watches(const std::vector<std::string>& texts,
                                                                         const guest_kernel::SymbolTable& symbols) {
  std::vector<actors::WatchConfig> out;
  if (texts.size() > kMaxWatches)
    return Refusal{exit_watch, "--watch: at most " + std::to_string(kMaxWatches) + " (slots 1-3; slot 0 watches the "
                               "sched_ext exit kind), " + std::to_string(texts.size()) + " given"};
  for (const auto& text : texts) {
    auto parsed = parse_watch(text);
    if (auto* r = std::get_if<Refusal>(&parsed)) return *r;
    const auto& w = std::get<WatchSpec>(parsed);
    const auto* sym = symbols.find(w.symbol);
    if (!sym) return refused(text, "no symbol " + w.symbol + " in this kernel (see `ktstr-actors kernel inspect`)");
    if (sym->address < kKernelImage)
      return refused(text, w.symbol + " is a per-CPU symbol (one copy per CPU): watch a global");
    const uint64_t address = sym->address + w.offset;
    if (address % w.length != 0)
      return refused(text, "address 0x" + kvm::to_hex(address) + " is not aligned to its length " + std::to_string(w.length) + " (the debug registers need it)");
    if (auto next = symbols.next_address(sym->address); next && address + w.length > *next)
      return refused(text, "the watched bytes run past the end of " + w.symbol);
    out.push_back({static_cast<uint32_t>(out.size() + 1), text, w.symbol, address, w.length, w.freeze});
  }
  return out;
}

}  // namespace ktstr::cli
