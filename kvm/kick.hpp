#pragma once
// The native kick: how any thread gets a vCPU out of KVM_RUN, once per request.
//
// KVM polls kvm_run.immediate_exit once when KVM_RUN starts and returns -EINTR if it
// is set; a signal arriving while the vCPU is inside KVM_RUN makes it return -EINTR
// too (no SA_RESTART). Together they close the window between "mailbox drained" and
// KVM_RUN without KVM_SET_SIGNAL_MASK. What they do not give is a way to tell a kick
// that is new from one already handled; generations do.
//
// Protocol (mu_ orders every step marked [mu]):
//   kicker   [mu] if attached: requested += 1; immediate_exit = 1; release fence;
//                 pthread_kill(vcpu, SIGRTMIN). The handler is an acquire fence only:
//                 it never writes immediate_exit, so a late signal cannot re-arm it.
//   vCPU     enter_guest(); KVM_RUN; leave_guest(). On -EINTR / KVM_EXIT_INTR:
//            [mu] consume(): fresh = requested > served; served = requested;
//                 immediate_exit = 0. Fresh -> go back to the mailbox.
//                 Not fresh -> a stale signal (its kick was served before it landed)
//                 or a foreign one: nothing new was asked, enter the guest again.
// Why it holds:
//   - A kick before the mailbox drain is seen by the drain (the message is published
//     before the kick). A kick between drain and KVM_RUN left immediate_exit = 1, which
//     only consume() clears, so KVM_RUN returns at once. A kick inside KVM_RUN lands
//     as a signal and KVM_RUN returns -EINTR.
//   - consume() snapshots requested and clears immediate_exit under mu_, so no kick
//     can bump the generation between the two: a kick after it finds served < its
//     generation and re-arms immediate_exit itself; nothing before it is left armed.
//   - kick() sends the signal while holding mu_ and consume() takes mu_, so every
//     signal of a served generation was sent before served moved; each one still
//     pending (blocked, or queued: SIGRTMIN does not coalesce) costs at most one EINTR
//     that consume() reports as stale, and run_once() answers with resume.
//   - The liveness gate: attach/detach and every immediate_exit write hold mu_, so no
//     write reaches a kvm_run page after detach() returned.
// Pacing: each kick queues one SIGRTMIN (real-time signals do not coalesce), so a loop
// of kicks without pauses fills the process's signal queue (RLIMIT_SIGPENDING) and
// starves the vCPU thread in its handler. Every caller paces its re-kicks:
// kick_until_out re-kicks once per `period` (10 ms by default), the vm actor once per
// 10 ms (kRekickPeriod), the freeze coordinator once per freeze and vCPU.
#include <linux/kvm.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace ktstr::kvm {

/// Installs the kick signal handler for the process (no SA_RESTART, so KVM_RUN
/// returns EINTR) and checks by querying it back that the handler is ours. Idempotent.
/// Throws Error{system} if the kernel refuses or another handler is in place.
void install_kick_handler();
/// True when SIGRTMIN's disposition is the kick handler without SA_RESTART.
bool kick_handler_installed();
/// Unblocks the kick signal in the calling thread (every vCPU thread calls this) and
/// checks it took. Throws Error{system} if the handler is not installed (the signal
/// would kill the process) or the signal is still blocked.
void unblock_kick_signal();
/// True when the kick signal is blocked in the calling thread.
bool kick_signal_blocked();
int kick_signal();

class VcpuKick {
 public:
  // -- vCPU thread ------------------------------------------------------------
  /// It now runs `run` on this thread; kicks become live, none is pending.
  void attach(kvm_run* run);
  /// Kicks stop before the run page goes away (in-flight kicks finish first).
  void detach();
  /// Right before KVM_RUN: the vCPU counts as in the guest until leave_guest().
  void enter_guest();
  /// Right after KVM_RUN returned, whatever the reason.
  void leave_guest();
  /// After KVM_RUN returned -EINTR: serves every kick requested so far. True if one
  /// of them was new (go read the mailbox), false for a stale or foreign signal.
  bool consume();

  // -- any thread -------------------------------------------------------------
  /// Asks the vCPU out of KVM_RUN; returns the kick's generation, 0 (and no write)
  /// when the vCPU is not attached.
  uint64_t request();
  /// request() != 0.
  bool kick() { return request() != 0; }
  /// Kicks, then re-kicks every `period` until the vCPU thread is out of KVM_RUN
  /// (served the kick, is between runs with it armed, or detached) or `deadline`
  /// passes. True if it got out in time.
  bool kick_until_out(std::chrono::milliseconds deadline,
                      std::chrono::milliseconds period = std::chrono::milliseconds(10));

  bool alive() const { return alive_.load(std::memory_order_acquire); }
  bool in_guest() const { return in_guest_.load(std::memory_order_acquire); }
  uint64_t kicks_sent() const { return kicks_.load(std::memory_order_relaxed); }
  uint64_t requested() const { return requested_.load(std::memory_order_acquire); }
  uint64_t served() const { return served_.load(std::memory_order_acquire); }
  /// When the vCPU thread last left KVM_RUN with a kick outstanding, on the steady clock:
  /// the far end of a kick's one-way latency (runtime_bench).
  std::chrono::steady_clock::time_point last_out_at() const {
    return std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(out_at_.load(std::memory_order_acquire)));
  }

 private:
  uint64_t request_locked();
  bool out_locked(uint64_t generation) const;

  std::mutex mu_;  // orders kicks against consume() and detach(): see the protocol
  std::condition_variable out_cv_;  // leave_guest(), consume(), detach()
  kvm_run* run_ = nullptr;
  pthread_t thread_{};
  std::atomic<bool> alive_{false};
  std::atomic<bool> in_guest_{false};
  std::atomic<uint64_t> requested_{0};  // written under mu_
  std::atomic<uint64_t> served_{0};     // written under mu_
  std::atomic<uint64_t> kicks_{0};
  std::atomic<std::chrono::steady_clock::rep> out_at_{0};
};

}  // namespace ktstr::kvm
