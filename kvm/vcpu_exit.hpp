#pragma once
// One trip into the guest and the handling of why it came back.
#include <string>

#include "kvm/io_bus.hpp"
#include "kvm/kick.hpp"
#include "kvm/machine_events.hpp"
#include "kvm/vcpu.hpp"

namespace ktstr::kvm {

enum class RunOutcome {
  resume,           ///< exit handled (port I/O, MMIO); enter again
  interrupted,      ///< kicked (EINTR / KVM_EXIT_INTR): check the mailbox
  guest_reset,      ///< i8042 reset or a reset system event
  guest_power_off,  ///< ACPI S5 or a shutdown system event
  guest_shutdown,   ///< triple fault (KVM_EXIT_SHUTDOWN)
  debug,            ///< KVM_EXIT_DEBUG (a watchpoint or a guest #DB): RunResult::debug says which; enter again after
  failed,           ///< KVM or the exit itself failed; detail says how
};

struct RunResult {
  RunOutcome outcome = RunOutcome::resume;
  std::string detail;
  /// outcome == debug: run->debug.arch as KVM left it (exception vector, pc = CS.base + RIP
  /// of the next instruction for a data watchpoint, dr6, dr7); zero otherwise.
  kvm_debug_exit_arch debug{};
};

const char* to_string(RunOutcome outcome);

/// KVM_RUN once on the calling (owning) thread and dispatch the exit. `kick` is the
/// vCPU's, attached on this thread: it learns when the thread is in the guest and
/// serves the kicks an EINTR answers (a stale one yields resume, not interrupted).
RunResult run_once(Vcpu& vcpu, VcpuKick& kick, IoBus& bus, const MachineEvents& events);

/// What run_once does after KVM_RUN returned: `err` is its result (0 or -errno) and `run`
/// the vCPU's mapped kvm_run page of `run_size` bytes, whose exit is dispatched (port I/O
/// to `bus`, then any guest request in `events`; MMIO, HLT, debug exits, shutdown, system
/// events, failures). Touches no fd, so it is tested on a plain buffer.
RunResult dispatch_exit(int err, kvm_run& run, size_t run_size, VcpuKick& kick, IoBus& bus,
                        const MachineEvents& events);

}  // namespace ktstr::kvm
