#include "actors/vcpu_watch.hpp"

#include <exception>
#include <string>
#include <utility>

namespace ktstr::actors {

static_assert(static_cast<uint8_t>(msg::watch_kind::write) == static_cast<uint8_t>(kvm::WatchKind::write));
static_assert(static_cast<uint8_t>(msg::watch_kind::read_write) == static_cast<uint8_t>(kvm::WatchKind::read_write));

VcpuWatch::VcpuWatch(uint32_t vcpu, SetGuestDebug set_guest_debug)
    : vcpu_(vcpu), set_guest_debug_(std::move(set_guest_debug)) {}

msg::guest_debug_result VcpuWatch::arm(const msg::arm_watchpoint& request) {
  const kvm::WatchSlot slot{request.slot, request.address, request.length, static_cast<kvm::WatchKind>(request.kind)};
  if (auto why = kvm::watch_slot_error(slot)) return {vcpu_, request.slot, false, *why};
  auto next = slots_;
  next[slot.slot] = slot;
  return apply(slot.slot, next);
}

msg::guest_debug_result VcpuWatch::disarm(const msg::disarm_watchpoint& request) {
  if (request.slot >= kvm::kWatchSlots)
    return {vcpu_, request.slot, false,
            "watchpoint slot " + std::to_string(request.slot) + " does not exist (the debug registers have slots 0-3)"};
  auto next = slots_;
  next[request.slot].reset();
  return apply(request.slot, next);
}

msg::guest_debug_result VcpuWatch::apply(uint32_t slot, const kvm::WatchSlots& next) {
  try {
    set_guest_debug_(kvm::encode_guest_debug(next));
  } catch (const std::exception& e) {
    return {vcpu_, slot, false, e.what()};
  }
  slots_ = next;
  return {vcpu_, slot, true, {}};
}

DebugExitActions VcpuWatch::debug_exit(const kvm_debug_exit_arch& exit, double at_s) const {
  DebugExitActions out;
  if (exit.exception != kvm::kDebugVector) {
    out.foreign_vector = true;
    return out;
  }
  const uint8_t armed = kvm::armed_slots_mask(slots_);
  const auto decision = kvm::classify_debug_exit(exit.dr6, armed);
  for (uint32_t n : decision.our_slots_hit)
    out.hits.push_back(msg::watchpoint_hit{n, vcpu_, slots_[n]->address, exit.pc, exit.dr6, at_s});
  out.reinject = decision.reinject;
  if (out.reinject) out.guest_dr6 = kvm::guest_dr6(exit.dr6, armed);
  return out;
}

}  // namespace ktstr::actors
