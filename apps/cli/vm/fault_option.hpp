#pragma once
// `run --fault KIND:ARGS` (repeatable; an experiment VM's `faults`): faults injected from
// the host at their times, all written and checked here (docs/experiments.md, "Faults").
// Checked before anything boots; each problem is one line and exit_fault.
//   vcpu_stall:VCPU@AT+SECONDS                 park that vCPU alone from AT s after VM start, for SECONDS
//   vcpu_jitter:VCPU@AT+SECONDS/PERIOD:PAUSE   park it PAUSE ms every PERIOD ms for SECONDS from AT
//   kick_loss:VCPU@AT+COUNT                    from AT, its next COUNT kicks are ignored
//   nmi:VCPU@AT                                KVM_NMI on that vCPU at AT
//   guest_write:SYMBOL[+OFF][:LEN]=VALUE@AT    store VALUE (LEN bytes, default 8) into the kernel word
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "apps/cli/base/refusal.hpp"
#include "kvm/guest_kernel/symbol_table.hpp"
#include "messages/fault.hpp"

namespace ktstr::cli {

inline constexpr double kMaxStallSeconds = 600;
inline constexpr uint32_t kMinJitterPeriodMs = 10;
inline constexpr uint32_t kMaxJitterPeriodMs = 60000;
inline constexpr uint32_t kMaxJitterPauses = 10000;
inline constexpr uint32_t kMaxDroppedKicks = 100000;

/// One fault's text on its own (kind, syntax, value ranges; no VM needed): the event with
/// its plan, or a Refusal (exit_fault) naming the problem.
std::variant<msg::fault_event, Refusal> parse_fault(const std::string& text);

/// Every --fault for a VM of `vcpus` vCPUs running at most `run_s` seconds: each as
/// parse_fault, then a vCPU out of range, a time past the run, stalls or jitters of one
/// vCPU that overlap, and two kick_loss of one vCPU are refused.
std::variant<std::vector<msg::fault_event>, Refusal> parse_faults(const std::vector<std::string>& texts, uint32_t vcpus,
                                                                  double run_s);

/// Whether any fault needs the kernel's symbols and the monitor (guest_write).
bool faults_need_symbols(const std::vector<msg::fault_event>& faults);

/// Each guest_write's target resolved to its link-time address: an unknown or per-CPU
/// symbol, a word misaligned to its length or running past its symbol are refused.
std::optional<Refusal> resolve_fault_symbols(std::vector<msg::fault_event>& faults,
                                             const guest_kernel::SymbolTable& symbols);

}  // namespace ktstr::cli
