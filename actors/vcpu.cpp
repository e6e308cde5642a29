#include "actors/vcpu.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <type_traits>
#include <utility>

#include "actors/kick_loss.hpp"
#include "actors/unexpected.hpp"
#include "actors/vcpu_capture.hpp"
#include "actors/vcpu_watch.hpp"
#include "kvm/guest_debug.hpp"
#include "kvm/vcpu_exit.hpp"

namespace ktstr::actors {

namespace {

/// MSR_LSTAR (the kernel's syscall entry: where the monitor finds the KASLR slide), CR3, CR4.
msg::cpu_state read_cpu_state(const kvm::Vcpu& vcpu, uint64_t id) {
  constexpr uint32_t kMsrLstar = 0xc0000082;
  msg::cpu_state out;
  out.id = id;
  out.vcpu = vcpu.index();
  try {
    out.lstar = vcpu.msrs({kMsrLstar}).at(0);
    const kvm_sregs s = vcpu.sregs();
    out.cr3 = s.cr3;
    out.cr4 = s.cr4;
    out.ok = true;
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  return out;
}

void answer_cpu_state(caf::blocking_actor* self, const kvm::Vcpu& vcpu, const msg::cpu_state_query& q) {
  self->send(caf::actor_cast<caf::actor>(self->current_sender()), read_cpu_state(vcpu, q.id));
}

/// Arm or disarm answers its sender (the watch listener when sent anonymously).
template <class Request>
void answer_watch(caf::blocking_actor* self, VcpuWatch& watch, const watchpoint_listener& listener,
                  const Request& request) {
  msg::guest_debug_result result;
  if constexpr (std::is_same_v<Request, msg::arm_watchpoint>) result = watch.arm(request);
  else result = watch.disarm(request);
  if (!result.ok) spdlog::warn("vcpu {}: watchpoint slot {} refused: {}", result.vcpu, result.slot, result.error);
  auto sender = caf::actor_cast<caf::actor>(self->current_sender());
  if (sender) self->send(sender, std::move(result));
  else if (listener) self->send(listener, std::move(result));
}

/// A KVM_EXIT_DEBUG: our slots' hits go to the listener, the guest's own #DB goes back to
/// the guest; then the vCPU runs on.
void on_debug_exit(caf::blocking_actor* self, kvm::Vcpu& vcpu, const VcpuWatch& watch, const VcpuConfig& config,
                   const kvm_debug_exit_arch& exit) {
  const double at_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - config.start).count();
  const auto actions = watch.debug_exit(exit, at_s);
  if (actions.foreign_vector) {
    spdlog::warn("vcpu {}: debug exit for vector {} at 0x{:x} ignored", vcpu.index(), exit.exception, exit.pc);
    return;
  }
  for (const auto& hit : actions.hits) {
    spdlog::debug("vcpu {}: watchpoint slot {} hit at rip 0x{:x} (dr6 0x{:x})", hit.vcpu, hit.slot, hit.rip, hit.dr6);
    if (config.watch_listener) self->send(config.watch_listener, hit);
  }
  if (actions.reinject && !kvm::reinject_debug_exception(vcpu, actions.guest_dr6))
    spdlog::warn("vcpu {}: the guest's #DB at 0x{:x} (dr6 0x{:x}) dropped: another exception is queued",
                 vcpu.index(), exit.pc, exit.dr6);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// A kick_loss fault's outcome, when one is owed (its count used up, or `final`).
void report_kick_loss(caf::blocking_actor* self, KickLoss& loss, const VcpuConfig& config, bool final) {
  if (auto outcome = loss.report(final)) {
    spdlog::info("vcpu {}: fault {}: {} kick(s) dropped", config.vcpu ? config.vcpu->index() : 0, outcome->index,
                 outcome->dropped);
    self->send(config.vm, std::move(*outcome));
  }
}

/// kick_loss begins: from now on the next `count` kicked exits skip the mailbox.
void on_drop_kicks(caf::blocking_actor* self, KickLoss& loss, const VcpuConfig& config, const msg::drop_kicks& d) {
  loss.arm(d.index, d.count, seconds_since(config.start));
  spdlog::info("vcpu {}: fault {}: the next {} kick(s) will be dropped", config.vcpu->index(), d.index, d.count);
  report_kick_loss(self, loss, config, false);  // a count of 0, or an earlier fault it ended
}

/// nmi: KVM_NMI from this thread, between two KVM_RUNs; the guest takes it when it next runs.
void on_inject_nmi(caf::blocking_actor* self, kvm::Vcpu& vcpu, const VcpuConfig& config, const msg::inject_nmi& n) {
  msg::fault_outcome o;
  o.index = n.index;
  o.applied_at_s = seconds_since(config.start);
  o.error = vcpu.inject_nmi();
  o.accepted = o.error.empty();
  if (o.accepted) spdlog::info("vcpu {}: fault {}: NMI injected", vcpu.index(), n.index);
  else spdlog::warn("vcpu {}: fault {}: {}", vcpu.index(), n.index, o.error);
  self->send(config.vm, std::move(o));
}

msg::guest_stop guest_stop_of(kvm::RunOutcome outcome) {
  switch (outcome) {
    case kvm::RunOutcome::guest_reset: return msg::guest_stop::reset;
    case kvm::RunOutcome::guest_power_off: return msg::guest_stop::power_off;
    default: return msg::guest_stop::shutdown;
  }
}

/// Frozen: registers go to the coordinator, then nothing runs until thaw or stop.
/// Returns false when told to stop while parked.
bool park(caf::blocking_actor* self, kvm::Vcpu& vcpu, VcpuWatch& watch, const watchpoint_listener& listener,
          const msg::freeze& f, KickLoss& loss, const VcpuConfig& config) {
  auto coordinator = caf::actor_cast<caf::actor>(self->current_sender());
  vcpu.complete_pending_io();
  self->send(coordinator, msg::parked{f.id, vcpu.index(), capture_state(vcpu)});
  // After the reply, off the freeze's critical path: the guest sees the pause flag
  // when it runs again, which is only after the thaw this thread has yet to receive.
  (void)vcpu.mark_guest_paused();
  bool running = true, thawed = false;
  while (!thawed && running) {
    self->receive([&](msg::thaw& t) { thawed = t.freeze_id == f.id; },  // an older thaw is stale
                  [&](msg::stop_atom) { running = false; },
                  [&](msg::freeze& again) {
                    // Already parked (by a fault's stall, or late): answer whoever asks now,
                    // so that coordinator is never left waiting; only our own thaw lets go.
                    self->send(caf::actor_cast<caf::actor>(self->current_sender()),
                               msg::parked{again.id, vcpu.index(), capture_state(vcpu)});
                  },
                  [&](msg::cpu_state_query& q) { answer_cpu_state(self, vcpu, q); },
                  // Armed while parked: in place before the thaw lets the guest run on.
                  [&](msg::arm_watchpoint& a) { answer_watch(self, watch, listener, a); },
                  [&](msg::disarm_watchpoint& d) { answer_watch(self, watch, listener, d); },
                  // Faults meant for a stalled vCPU: taken now, in effect when it runs again.
                  [&](msg::drop_kicks& d) { on_drop_kicks(self, loss, config, d); },
                  [&](msg::inject_nmi& n) { on_inject_nmi(self, vcpu, config, n); },
                  unexpected_in(self, "vcpu " + std::to_string(vcpu.index())));
  }
  return running;
}

/// Handles every queued message without blocking; false once told to stop.
bool drain_mailbox(caf::blocking_actor* self, kvm::Vcpu& vcpu, VcpuWatch& watch, const watchpoint_listener& listener,
                   KickLoss& loss, const VcpuConfig& config) {
  bool running = true, dry = false;
  // A look at the mailbox before each receive: most KVM_RUN exits (port I/O, MMIO) find
  // it empty, and a kick's message is answered by the one receive that handles it, with
  // no second receive waiting out a zero timeout. A message no handler matches is logged
  // and dropped, so it cannot keep the mailbox non-empty.
  while (running && !dry && !self->mailbox().empty()) {
    self->receive([&](msg::stop_atom) { running = false; },
                  [&](msg::freeze& f) { running = park(self, vcpu, watch, listener, f, loss, config); },
                  [&](msg::thaw&) {},  // a thaw for a freeze we answered late: nothing to do
                  [&](msg::cpu_state_query& q) { answer_cpu_state(self, vcpu, q); },
                  [&](msg::arm_watchpoint& a) { answer_watch(self, watch, listener, a); },
                  [&](msg::disarm_watchpoint& d) { answer_watch(self, watch, listener, d); },
                  [&](msg::drop_kicks& d) { on_drop_kicks(self, loss, config, d); },
                  [&](msg::inject_nmi& n) { on_inject_nmi(self, vcpu, config, n); },
                  // The cheapest round trip through this loop: measures the actor path (runtime_bench).
                  [&](msg::ping& p) {
                    const auto handled_at = std::chrono::steady_clock::now().time_since_epoch().count();
                    self->send(caf::actor_cast<caf::actor>(self->current_sender()),
                               msg::pong{p.seq, vcpu.index(), static_cast<int64_t>(handled_at)});
                  },
                  unexpected_in(self, "vcpu " + std::to_string(vcpu.index())),
                  caf::after(std::chrono::seconds(0)) >> [&] { dry = true; });
  }
  return running;
}

}  // namespace

void vcpu_actor(caf::blocking_actor* self, VcpuConfig config) {
  auto& vcpu = *config.vcpu;
  const uint32_t index = vcpu.index();
  std::string reason = "stopped";
  KickLoss loss;
  try {
    kvm::unblock_kick_signal();
    config.kick->attach(vcpu.run_page());
    for (const auto& observer : config.observers)
      if (observer) self->send(observer, msg::vcpu_started{index, static_cast<int32_t>(::gettid())});
    VcpuWatch watch(index, [&vcpu](const kvm_guest_debug& d) { vcpu.set_guest_debug(d); });
    bool kick_dropped = false;
    // A dropped kick skips the mailbox: what it announced waits for the next exit that
    // reads it (port I/O, or a kick that is not dropped: the vm actor re-kicks a stop).
    while (kick_dropped || drain_mailbox(self, vcpu, watch, config.watch_listener, loss, config)) {
      kick_dropped = false;
      auto result = kvm::run_once(vcpu, *config.kick, config.machine->bus(), config.machine->events());
      using kvm::RunOutcome;
      if (result.outcome == RunOutcome::interrupted && loss.drop(seconds_since(config.start))) {
        kick_dropped = true;
        report_kick_loss(self, loss, config, false);
        continue;
      }
      if (result.outcome == RunOutcome::resume || result.outcome == RunOutcome::interrupted) continue;
      if (result.outcome == RunOutcome::debug) {
        on_debug_exit(self, vcpu, watch, config, result.debug);
        continue;
      }
      // A death (triple fault, failed entry, internal error): this thread reads its own
      // state now, before reporting, while KVM still holds it as the exit left it.
      if (result.outcome == RunOutcome::failed) {
        reason = "failed: " + result.detail;
        self->send(config.vm, msg::vcpu_failed{index, result.detail, capture_state(vcpu)});
      } else {
        reason = kvm::to_string(result.outcome);
        std::optional<msg::vcpu_registers> state;
        if (result.outcome == RunOutcome::guest_shutdown) {
          state = capture_state(vcpu);
          state->note = shutdown_state_note(*state);
          if (!state->note.empty()) spdlog::warn("vcpu {}: {}", index, state->note);
        }
        self->send(config.vm, msg::guest_stopped{index, guest_stop_of(result.outcome), result.detail, std::move(state)});
      }
      break;
    }
  } catch (const std::exception& e) {
    reason = std::string("failed: ") + e.what();
    self->send(config.vm, msg::vcpu_failed{index, e.what(), capture_state(vcpu)});
  }
  report_kick_loss(self, loss, config, true);  // before vcpu_exited: the vm actor records it first
  // No kick may touch kvm_run once this thread lets go of it.
  config.kick->detach();
  config.vcpu.reset();
  self->send(config.vm, msg::vcpu_exited{index, reason});
}

}  // namespace ktstr::actors
