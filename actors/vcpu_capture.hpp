#pragma once
// One capture of a vCPU's state, used by every path that records where a vCPU stood: a
// freeze (parked) and the guest's death (the faulting vCPU right after its exit). Runs
// on the vCPU's own thread; never throws: a read KVM refuses is named in `unreadable`
// and the rest is still captured.
#include "kvm/vcpu_state.hpp"
#include "messages/freeze.hpp"

namespace ktstr::actors {

msg::vcpu_registers capture_state(const kvm::VcpuStateReader& vcpu);

}  // namespace ktstr::actors
