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
#include "apps/cli/base/watch_spec.hpp"
#include "kvm/guest_kernel/word_condition.hpp"
#include "kvm/guest_kernel/symbol_table.hpp"

namespace ktstr::cli {

inline constexpr size_t kMaxWatches = 3;

/// One word to watch: its text, where it came from (the refusal line starts with it:
/// "--watch", or "scenario my.toml:12: step[1].ops[0].word"), and, for a scenario's watch
/// op, from which step on and on what condition.
struct WatchRequest {
  std::string text;
  std::string origin = "--watch";
  std::optional<uint32_t> from_step;
  std::optional<guest_kernel::WordCondition> when;
};

/// The text of one --watch; a Refusal (exit_watch) when malformed.
std::variant<WatchSpec, Refusal> parse_watch(const std::string& text);

/// Every word resolved to link-time addresses in slots 1.. (at most 3): unknown and
/// per-CPU symbols, a word past the symbol's end and misalignment are refused.
std::variant<std::vector<actors::WatchConfig>, Refusal> resolve_watches(const std::vector<WatchRequest>& requests,
                                                                         const guest_kernel::SymbolTable& symbols);
/// The same for plain --watch texts.
std::variant<std::vector<actors::WatchConfig>, Refusal> resolve_watches(const std::vector<std::string>& texts,
                                                                         const guest_kernel::SymbolTable& symbols);

}  // namespace ktstr::cli
