#pragma once
// The vcpu actor: owns one VcpuFd on its own thread and runs the KVM_RUN loop. Its
// mailbox is drained after every kick (EINTR); every message to it is followed by a
// native kick through its VcpuKick, so it sees the message within one kick.
// It takes stop_atom, freeze, thaw, ping, cpu_state_query (answered with cpu_state), and
// arm_watchpoint / disarm_watchpoint (its debug registers, set on its own thread, also while
// parked; answered with guest_debug_result), and two faults: drop_kicks (the next kicked
// exits skip the mailbox, actors/kick_loss.hpp) and inject_nmi (KVM_NMI), each answered
// with fault_outcome to the vm actor; anything else is logged and dropped. It sends
// watchpoint_hit to its watch listener when an armed slot fires, hands the guest its own
// #DBs back (KVM_SET_VCPU_EVENTS) and runs on (actors/vcpu_watch.hpp).
// Parked and at its own death (triple fault, failed entry, internal error) it captures its
// state on its own thread (actors/vcpu_capture.hpp): in parked, and in guest_stopped /
// vcpu_failed, read before it reports.
// It is a blocking actor (its thread sits in KVM_RUN), and CAF 0.17 has no typed blocking
// actor, so its handle is a plain caf::actor; what it sends goes through typed handles.
#include <caf/all.hpp>

#include <chrono>
#include <memory>
#include <vector>

#include "actors/interfaces.hpp"
#include "kvm/kick.hpp"
#include "kvm/machine.hpp"
#include "kvm/vcpu.hpp"

namespace ktstr::actors {

struct VcpuConfig {
  std::shared_ptr<kvm::Machine> machine;  ///< devices and RAM outlive every vCPU thread
  std::shared_ptr<kvm::Vcpu> vcpu;        ///< used by this actor's thread only
  std::shared_ptr<kvm::VcpuKick> kick;    ///< shared with whoever kicks
  vcpu_supervisor vm;                     ///< supervisor: guest_stopped / vcpu_failed / vcpu_exited
  std::vector<vcpu_start_listener> observers;  ///< optional: get vcpu_started{tid} (perf sampler, monitor)
  watchpoint_listener watch_listener;          ///< optional: gets watchpoint_hit
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();  ///< VM start: watchpoint_hit::at_s
};

/// Blocking actor body; spawn with system.spawn(vcpu_actor, config) (own thread).
void vcpu_actor(caf::blocking_actor* self, VcpuConfig config);

}  // namespace ktstr::actors
