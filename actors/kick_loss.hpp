#pragma once
// A vCPU's kick_loss fault: the kicked exits it ignores (it goes back into KVM_RUN without
// reading its mailbox, as if the kick had never come), how many, and when the count ran
// out. The vcpu actor owns one and calls it on its own thread; no KVM in here, so it is
// tested without /dev/kvm.
#include <cstdint>
#include <optional>

#include "messages/fault.hpp"

namespace ktstr::actors {

class KickLoss {
 public:
  /// Fault `index` begins at at_s: the next `count` kicked exits are dropped. A fault still
  /// running is ended first: its outcome is what report() gives next.
  void arm(uint64_t index, uint32_t count, double at_s);
  /// A kicked exit at at_s: true when it is dropped (counted), false when the vCPU
  /// should read its mailbox as usual.
  bool drop(double at_s);
  /// The outcome owed to the vm actor, once per fault: when its count is used up, or when
  /// `final` (the vCPU is leaving its loop) for one that is not. nullopt when nothing is owed.
  std::optional<msg::fault_outcome> report(bool final);

 private:
  struct Active {
    msg::fault_outcome outcome;
    uint32_t left = 0;
  };
  std::optional<Active> active_;
  std::optional<msg::fault_outcome> owed_;  // a fault ended by the next arm()
};

}  // namespace ktstr::actors
