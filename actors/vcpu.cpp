#include "actors/vcpu.hpp"

#include <spdlog/spdlog.h>

#include "kvm/vcpu_exit.hpp"
#include "messages/messages.hpp"

namespace ktstr::actors {

namespace {

/// Handles every queued message without blocking; false once told to stop.
bool drain_mailbox(caf::blocking_actor* self) {
  bool running = true;
  bool empty = false;
  while (!empty && running) {
    self->receive([&](msg::stop_atom) { running = false; },
                  caf::after(std::chrono::seconds(0)) >> [&] { empty = true; });
  }
  return running;
}

}  // namespace

void vcpu_actor(caf::blocking_actor* self, VcpuConfig config) {
  auto& vcpu = *config.vcpu;
  const uint32_t index = vcpu.index();
  std::string reason = "stopped";
  try {
    kvm::unblock_kick_signal();
    config.kick->attach(vcpu.run_page());
    while (drain_mailbox(self)) {
      auto result = kvm::run_once(vcpu, *config.kick, config.machine->bus(), config.machine->events());
      using kvm::RunOutcome;
      if (result.outcome == RunOutcome::resume || result.outcome == RunOutcome::interrupted) continue;
      if (result.outcome == RunOutcome::failed) {
        reason = "failed: " + result.detail;
        self->send(config.vm, msg::vcpu_failed{index, result.detail});
      } else {
        reason = kvm::to_string(result.outcome);
        self->send(config.vm, msg::guest_stopped{index, kvm::to_string(result.outcome), result.detail});
      }
      break;
    }
  } catch (const std::exception& e) {
    reason = std::string("failed: ") + e.what();
    self->send(config.vm, msg::vcpu_failed{index, e.what()});
  }
  // No kick may touch kvm_run once this thread lets go of it.
  config.kick->detach();
  config.vcpu.reset();
  self->send(config.vm, msg::vcpu_exited{index, reason});
}

}  // namespace ktstr::actors
