#pragma once
// One capture of a vCPU's state, used by every path that records where a vCPU stood: a
// freeze (parked) and the guest's death (the faulting vCPU right after its exit). Runs
// on the vCPU's own thread; never throws: a read KVM refuses is named in `unreadable`
// and the rest is still captured.
#include <string>

#include "kvm/vcpu_state.hpp"
#include "messages/freeze.hpp"

namespace ktstr::actors {

msg::vcpu_registers capture_state(const kvm::VcpuStateReader& vcpu);

/// After KVM_EXIT_SHUTDOWN: KVM on AMD (SVM) re-initializes the vCPU on the shutdown
/// intercept (the VMCB is undefined after it), so what it reads then is the INIT state
/// (rip 0xfff0, CS 0xf000, protection off), not the state at the fault. A note saying so,
/// or empty when the state is not that (Intel VMX keeps the state at the fault).
std::string shutdown_state_note(const msg::vcpu_registers& state);

}  // namespace ktstr::actors
