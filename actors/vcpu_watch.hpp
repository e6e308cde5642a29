#pragma once
// A vCPU's hardware watchpoints: the four debug-register slots it holds, what arming and
// disarming them answers, and what a KVM_EXIT_DEBUG asks of it. The vcpu actor owns one
// and calls it on its own thread; setting the debug registers is handed in, so this is
// tested without /dev/kvm.
#include <linux/kvm.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "kvm/guest_debug.hpp"
#include "messages/watchpoint.hpp"

namespace ktstr::actors {

/// What the vcpu does after a debug exit: send the hits, then (reinject) hand the guest
/// its #DB with guest_dr6 as its DR6; then run on.
struct DebugExitActions {
  std::vector<msg::watchpoint_hit> hits;
  bool reinject = false;
  uint64_t guest_dr6 = 0;
  bool foreign_vector = false;  ///< not a #DB (KVM reports only #DB for hardware watchpoints): ignored
};

class VcpuWatch {
 public:
  /// Applies a KVM_SET_GUEST_DEBUG argument; throws (kvm::Error) when KVM refuses it.
  using SetGuestDebug = std::function<void(const kvm_guest_debug&)>;

  VcpuWatch(uint32_t vcpu, SetGuestDebug set_guest_debug);

  /// Validates, then sets every slot with this one replaced. Refused (bad slot, length,
  /// alignment, kind, or KVM said no): !ok with the reason, and the slots stay as they were.
  msg::guest_debug_result arm(const msg::arm_watchpoint& request);
  /// Switches the slot off (a slot not armed is fine); with none left, guest debugging is off.
  msg::guest_debug_result disarm(const msg::disarm_watchpoint& request);

  /// Classifies the exit against the armed slots (kvm::classify_debug_exit).
  DebugExitActions debug_exit(const kvm_debug_exit_arch& exit, double at_s) const;

  const kvm::WatchSlots& slots() const { return slots_; }

 private:
  msg::guest_debug_result apply(uint32_t slot, const kvm::WatchSlots& next);

  uint32_t vcpu_;
  SetGuestDebug set_guest_debug_;
  kvm::WatchSlots slots_{};
};

}  // namespace ktstr::actors
