#pragma once
// The names of sched_ext's enum values as the kernel spells them (kernel/sched/ext.c):
// the exit kinds (SCX_EXIT_*) and the enable states (SCX_OPS_*/SCX_*); a value the
// kernel does not define is shown as its number.
#include <cstdint>
#include <string>

namespace ktstr::guest_kernel {

/// NONE, DONE, UNREG, UNREG_BPF, UNREG_KERN, SYSRQ, ERROR, ERROR_BPF, ERROR_STALL.
std::string exit_kind_name(uint64_t kind);
/// ENABLING, ENABLED, DISABLING, DISABLED.
std::string enable_state_name(uint64_t state);
/// Exit kinds from 1024 up are errors (ERROR, ERROR_BPF, ERROR_STALL).
inline bool is_error_exit(uint64_t kind) { return kind >= 1024; }
inline constexpr uint64_t kExitNone = 0;
inline constexpr uint64_t kExitDone = 1;

}  // namespace ktstr::guest_kernel
