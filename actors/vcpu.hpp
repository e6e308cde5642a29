#pragma once
// The vcpu actor: owns one VcpuFd on its own thread and runs the KVM_RUN loop. Its
// mailbox is drained after every kick (EINTR); every message to it is followed by a
// native kick through its VcpuKick, so it sees the message within one kick.
#include <caf/all.hpp>

#include <memory>

#include "kvm/kick.hpp"
#include "kvm/machine.hpp"
#include "kvm/vcpu.hpp"

namespace ktstr::actors {

struct VcpuConfig {
  std::shared_ptr<kvm::Machine> machine;  ///< devices and RAM outlive every vCPU thread
  std::shared_ptr<kvm::Vcpu> vcpu;        ///< used by this actor's thread only
  std::shared_ptr<kvm::VcpuKick> kick;    ///< shared with whoever kicks
  caf::actor vm;                          ///< supervisor: guest_stopped / vcpu_failed / vcpu_exited
  caf::actor observer;                    ///< optional: gets vcpu_started{tid} (the perf sampler)
};

/// Blocking actor body; spawn with system.spawn(vcpu_actor, config) (own thread).
void vcpu_actor(caf::blocking_actor* self, VcpuConfig config);

}  // namespace ktstr::actors
