#pragma once
// vCPU 0 as the monitor sees it, without KVM: says vcpu_started, answers cpu_state_query
// with a (synthetic) kernel's LSTAR, CR3 and CR4, and takes arm/disarm_watchpoint as a
// vcpu actor would, recording them and answering ok or `refusal` as KVM's error. For the
// monitor's tests and the watch latency benchmark.
#include <caf/all.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"
#include "kvm/guest_kernel/guest_kernel.hpp"
#include "messages/monitor.hpp"
#include "messages/watchpoint.hpp"

namespace ktstr::test {

using namespace ktstr;

/// What a vCPU stand-in was told about its debug registers.
struct DebugLog {
  std::mutex mutex;
  std::vector<msg::arm_watchpoint> arms;
  std::vector<uint32_t> disarms;
  size_t arm_count() {
    std::lock_guard lock(mutex);
    return arms.size();
  }
};

/// vCPU 0's stand-in on a booted kernel that also takes arm/disarm: it records them and
/// answers as KVM would (ok, or `refusal` as the error).
inline caf::behavior debugging_bsp(caf::event_based_actor* self, guest_kernel::LocateInput regs, std::shared_ptr<DebugLog> log,
                            std::string refusal) {
  auto answer = [=](uint32_t slot) {
    self->send(caf::actor_cast<caf::actor>(self->current_sender()),
               msg::guest_debug_result{0, slot, refusal.empty(), refusal});
  };
  return {
      [=](actors::monitor_actor_t monitor) { self->send(monitor, msg::vcpu_started{0, 4242}); },
      [=](msg::cpu_state_query& q) {
        msg::cpu_state s;
        s.id = q.id;
        s.ok = true;
        s.lstar = regs.lstar;
        s.cr3 = regs.cr3;
        s.cr4 = regs.cr4;
        self->send(caf::actor_cast<caf::actor>(self->current_sender()), s);
      },
      [=](msg::arm_watchpoint& a) {
        {
          std::lock_guard lock(log->mutex);
          log->arms.push_back(a);
        }
        answer(a.slot);
      },
      [=](msg::disarm_watchpoint& d) {
        {
          std::lock_guard lock(log->mutex);
          log->disarms.push_back(d.slot);
        }
        answer(d.slot);
      },
  };
}

}  // namespace ktstr::test
