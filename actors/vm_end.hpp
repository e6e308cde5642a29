#pragma once
// Why the vm actor ends a run: one pure function per reason, so the choice of `how` and
// the detail text can be tested without a VM. The vm actor reports the first reason only.
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

#include "messages/guest_io.hpp"
#include "messages/run.hpp"
#include "messages/vcpu.hpp"
#include "messages/watchdog.hpp"

namespace ktstr::actors {

struct VmEnd {
  msg::run_end how = msg::run_end::stopped;
  std::string detail;
};

/// The guest powered off, reset or triple-faulted: `how` names it.
VmEnd end_for(const msg::guest_stopped& stopped);
VmEnd end_for(const msg::vcpu_failed& failed);
VmEnd end_for(const msg::kernel_panic& panic);
/// The watchdog saw no progress: a hang.
VmEnd end_for(const msg::stall& stall);
/// The watchdog's hard stage: the run deadline and its grace passed.
VmEnd end_for_deadline(std::chrono::milliseconds run_deadline, std::chrono::milliseconds hard_grace);
/// A vcpu actor died without saying goodbye.
VmEnd end_for_vcpu_death(uint32_t vcpu, const std::string& reason);
/// Someone sent stop_atom.
VmEnd end_for_stop_request();
/// Every vCPU left its loop with no other reason given.
VmEnd end_for_all_vcpus_gone();
/// The machine could not be built: no usable /dev/kvm, or any other VMM error.
VmEnd end_for_start_failure(bool no_kvm, const std::string& what);

/// A guest death or hang (shutdown, vcpu-failed, panic, hang, timeout): the vm actor
/// freezes every vCPU and records its state before it stops the VM. Not for a normal end
/// (power-off, reset, a stop request) or a machine that never started.
bool wants_vcpu_evidence(msg::run_end how);

/// The first reason to stop is the one reported; later ones are ignored.
class VmEndLatch {
 public:
  /// True when this is the first reason (the VM now stops for it).
  bool decide(VmEnd end) {
    if (decided_) return false;
    decided_ = true;
    end_ = std::move(end);
    return true;
  }
  bool decided() const { return decided_; }
  const VmEnd& end() const { return end_; }

 private:
  bool decided_ = false;
  VmEnd end_;
};

}  // namespace ktstr::actors
