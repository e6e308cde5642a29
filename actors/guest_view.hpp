#pragma once
// The running guest kernel as the monitor found it in guest memory, shared with the
// freeze coordinator (which reads the scheduler's state while every vCPU stands still).
// Not an actor: a slot the monitor fills once the kernel is located, read from any thread
// (the reads themselves are bounded copies from guest RAM).
#include <memory>
#include <mutex>
#include <string>

#include "kvm/guest_kernel/guest_kernel.hpp"
#include "messages/monitor.hpp"

namespace ktstr::actors {

class GuestView {
 public:
  void set(std::shared_ptr<const guest_kernel::GuestKernel> kernel);
  /// Why nothing is located (yet): said by a freeze that could not read the state.
  void set_unavailable(std::string why);
  /// Every online CPU's runqueue, the sched_ext globals and the BPF maps, or why not.
  msg::guest_state read() const;

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const guest_kernel::GuestKernel> kernel_;
  std::string unavailable_ = "monitor unavailable: the kernel was not located in guest memory yet";
};

/// One look at every online CPU and the sched_ext globals of a located kernel (not the BPF
/// maps: GuestView::read adds them at a freeze).
msg::guest_state read_guest_state(const guest_kernel::GuestKernel& kernel);

}  // namespace ktstr::actors
