#include "apps/cli/vm/watch_option.hpp"

#include "apps/cli/base/exit_codes.hpp"
#include "apps/protocol/printable.hpp"
#include "kvm/hex.hpp"

namespace ktstr::cli {

namespace {

constexpr uint64_t kKernelImage = 0xffffffff80000000ull;  // __START_KERNEL_map

Refusal refused(const std::string& origin, const std::string& text, const std::string& why) {
  return {exit_watch, origin + " " + protocol::printable_excerpt(text, 80) + ": " + why};
}

}  // namespace

std::variant<WatchSpec, Refusal> parse_watch(const std::string& text) {
  auto parsed = parse_watch_spec(text);
  if (auto* why = std::get_if<std::string>(&parsed)) return refused("--watch", text, *why);
  return std::get<WatchSpec>(parsed);
}

std::variant<std::vector<actors::WatchConfig>, Refusal> resolve_watches(const std::vector<std::string>& texts,
                                                                         const guest_kernel::SymbolTable& symbols) {
  std::vector<WatchRequest> requests;
  for (const auto& text : texts) requests.push_back({text});
  return resolve_watches(requests, symbols);
}

std::variant<std::vector<actors::WatchConfig>, Refusal> resolve_watches(const std::vector<WatchRequest>& requests,
                                                                         const guest_kernel::SymbolTable& symbols) {
  std::vector<actors::WatchConfig> out;
  if (requests.size() > kMaxWatches)
    return Refusal{exit_watch, "--watch: at most " + std::to_string(kMaxWatches) + " watched words (slots 1-3; slot 0 "
                               "watches the sched_ext exit kind), " + std::to_string(requests.size()) +
                               " given (--watch and the scenario's watch ops together)"};
  for (const auto& request : requests) {
    const auto& text = request.text;
    auto refused = [&request](const std::string& t, const std::string& why) {
      return ::ktstr::cli::refused(request.origin, t, why);
    };
    auto parsed = parse_watch_spec(text);
    if (auto* why = std::get_if<std::string>(&parsed)) return refused(text, *why);
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
    actors::WatchConfig config{static_cast<uint32_t>(out.size() + 1), text, w.symbol, address, w.length, w.freeze};
    config.from_step = request.from_step;
    config.when = request.when;
    out.push_back(std::move(config));
  }
  return out;
}

}  // namespace ktstr::cli
