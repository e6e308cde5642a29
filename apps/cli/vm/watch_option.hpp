#pragma once
// `run --watch SYMBOL[+OFFSET][:LEN][,freeze]`: a kernel data word the monitor watches
// (user slots 1-3; slot 0 is the sched_ext exit kind). Parsed and resolved against the
// kernel's symbols before anything boots; every problem is one line and exit_watch.
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "actors/monitor.hpp"
#include "apps/cli/base/refusal.hpp"
#include "kvm/guest_kernel/symbol_table.hpp"

namespace ktstr::cli {

inline constexpr size_t kMaxWatches = 3;

struct WatchSpec {
  std::string symbol;
  uint64_t offset = 0;
  uint32_t length = 8;
  bool freeze = false;
};

/// The text of one --watch; a Refusal (exit_watch) when malformed.
std::variant<WatchSpec, Refusal> parse_watch(const std::string& text);

/// Every --watch resolved to link-time addresses in slots 1.. (at most 3): unknown and
/// per-CPU symbols, a word past the symbol's end and misalignment are refused.
std::variant<std::vector<actors::WatchConfig>, Refusal> resolve_watches(const std::vector<std::string>& texts,
                                                                         const guest_kernel::SymbolTable& symbols);

}  // namespace ktstr::cli
