#pragma once
// The native kick: how any thread gets a vCPU out of KVM_RUN.
//
// kick = write kvm_run.immediate_exit through the mapped page, release fence,
// pthread_kill(vcpu_thread, SIGRTMIN). If the vCPU is inside KVM_RUN the signal makes
// it return EINTR; if it is about to enter, immediate_exit makes KVM_RUN return EINTR
// at once, so a kick is never lost in the window between mailbox check and KVM_RUN.
// The signal handler is an acquire fence only.
#include <linux/kvm.h>
#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <mutex>

namespace ktstr::kvm {

/// Installs the kick signal handler once per process (no SA_RESTART, so KVM_RUN
/// returns EINTR). Throws Error{system} if the kernel refuses.
void install_kick_handler();
/// Unblocks the kick signal in the calling thread (every vCPU thread calls this).
void unblock_kick_signal();
int kick_signal();

class VcpuKick {
 public:
  /// vCPU thread: it now runs `run` on this thread; kicks become live.
  void attach(kvm_run* run);
  /// vCPU thread: kicks stop before the run page goes away (in-flight kicks finish first).
  void detach();
  /// Any thread. False (and no write) when the vCPU is not attached.
  bool kick();
  bool alive() const { return alive_.load(std::memory_order_acquire); }
  uint64_t kicks_sent() const { return kicks_.load(std::memory_order_relaxed); }

  /// vCPU thread, after KVM_RUN returned EINTR: the kick is consumed.
  static void consume(kvm_run* run);

 private:
  std::mutex mu_;  // orders kick() against detach(): no write after the page is gone
  kvm_run* run_ = nullptr;
  pthread_t thread_{};
  std::atomic<bool> alive_{false};
  std::atomic<uint64_t> kicks_{0};
};

}  // namespace ktstr::kvm
