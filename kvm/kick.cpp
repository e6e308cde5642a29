#include "kvm/kick.hpp"

#include <algorithm>
#include <csignal>

#include "kvm/error.hpp"

namespace ktstr::kvm {

namespace {

// SAFETY: async-signal-safe; it touches no state, it only orders memory so the
// interrupted thread sees immediate_exit and any message published before the kick.
// It must not write immediate_exit: a signal delivered after its kick was served would
// then arm the next, unrelated KVM_RUN.
void on_kick(int) { std::atomic_thread_fence(std::memory_order_acquire); }

void set_immediate_exit(kvm_run* run, uint8_t value) {
  // SAFETY: run is the attached vCPU's mapped kvm_run; callers hold mu_, and detach()
  // clears run_ under mu_ before the page is unmapped. volatile: KVM reads the byte
  // from the kernel side, the compiler must not drop or merge the store.
  reinterpret_cast<volatile uint8_t*>(&run->immediate_exit)[0] = value;
}

void throw_system(const std::string& what) { throw Error(ErrorKind::system, what); }

}  // namespace

int kick_signal() { return SIGRTMIN; }

bool kick_handler_installed() {
  struct sigaction current {};
  if (::sigaction(kick_signal(), nullptr, &current) != 0) return false;
  return (current.sa_flags & SA_SIGINFO) == 0 && current.sa_handler == on_kick &&
         (current.sa_flags & SA_RESTART) == 0;
}

void install_kick_handler() {
  static std::mutex mu;
  std::lock_guard lock(mu);
  if (kick_handler_installed()) return;
  struct sigaction previous {};
  if (::sigaction(kick_signal(), nullptr, &previous) != 0)
    throw_errno(ErrorKind::system, "sigaction(SIGRTMIN) query for the vCPU kick");
  // Someone else's handler on SIGRTMIN would lose our kicks or theirs; refuse to share.
  const bool default_or_ignored = (previous.sa_flags & SA_SIGINFO) == 0 &&
                                  (previous.sa_handler == SIG_DFL || previous.sa_handler == SIG_IGN);
  if (!default_or_ignored)
    throw_system("SIGRTMIN already has a handler that is not the vCPU kick's; refusing to replace it");
  struct sigaction sa {};
  sa.sa_handler = on_kick;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: KVM_RUN must come back with EINTR
  if (::sigaction(kick_signal(), &sa, nullptr) != 0)
    throw_errno(ErrorKind::system, "sigaction(SIGRTMIN) for the vCPU kick");
  if (!kick_handler_installed())
    throw_system("sigaction(SIGRTMIN) for the vCPU kick: the handler did not take");
}

bool kick_signal_blocked() {
  sigset_t current;
  sigemptyset(&current);
  if (::pthread_sigmask(SIG_BLOCK, nullptr, &current) != 0) return true;
  return sigismember(&current, kick_signal()) == 1;
}

void unblock_kick_signal() {
  // Default action of SIGRTMIN is to terminate the process: never unblock it bare.
  if (!kick_handler_installed())
    throw_system("unblocking SIGRTMIN before the vCPU kick handler is installed would let a kick kill the process");
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, kick_signal());
  if (int err = ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr); err != 0) {
    errno = err;
    throw_errno(ErrorKind::system, "pthread_sigmask(SIG_UNBLOCK, SIGRTMIN)");
  }
  if (kick_signal_blocked()) throw_system("SIGRTMIN is still blocked in the vCPU thread after unblocking it");
}

void VcpuKick::attach(kvm_run* run) {
  std::lock_guard lock(mu_);
  run_ = run;
  thread_ = ::pthread_self();
  // Kicks before attach were dropped by the gate; none is owed to this run.
  served_.store(requested_.load(std::memory_order_relaxed), std::memory_order_release);
  in_guest_.store(false, std::memory_order_release);
  alive_.store(true, std::memory_order_release);
}

void VcpuKick::detach() {
  {
    std::lock_guard lock(mu_);
    alive_.store(false, std::memory_order_release);
    in_guest_.store(false, std::memory_order_release);
    run_ = nullptr;
  }
  out_cv_.notify_all();
}

void VcpuKick::enter_guest() {
  // seq_cst pairs with kick_until_out(): it writes immediate_exit, then reads in_guest_.
  // Either it sees us in the guest, or our KVM_RUN sees immediate_exit.
  in_guest_.store(true, std::memory_order_seq_cst);
}

void VcpuKick::leave_guest() {
  {
    std::lock_guard lock(mu_);  // under mu_ so a waiter between check and wait is not missed
    // A kick is outstanding: this is the moment it got the thread out (one clock read,
    // on kicked exits only; port I/O exits skip it).
    if (requested_.load(std::memory_order_relaxed) != served_.load(std::memory_order_relaxed))
      out_at_.store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
    in_guest_.store(false, std::memory_order_release);
  }
  out_cv_.notify_all();
}

bool VcpuKick::consume() {
  bool fresh = false;
  {
    std::lock_guard lock(mu_);
    if (!alive_.load(std::memory_order_relaxed)) return false;
    const uint64_t requested = requested_.load(std::memory_order_relaxed);
    fresh = requested != served_.load(std::memory_order_relaxed);
    served_.store(requested, std::memory_order_release);
    set_immediate_exit(run_, 0);
  }
  out_cv_.notify_all();
  return fresh;
}

uint64_t VcpuKick::request_locked() {
  if (!alive_.load(std::memory_order_relaxed)) return 0;
  const uint64_t generation = requested_.load(std::memory_order_relaxed) + 1;
  requested_.store(generation, std::memory_order_release);
  set_immediate_exit(run_, 1);
  // Publishes immediate_exit (and what the kicker wrote before) to the handler's
  // acquire fence; seq_cst also orders the store before kick_until_out's in_guest_ read.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  kicks_.fetch_add(1, std::memory_order_relaxed);
  // ESRCH cannot happen while attached. EAGAIN (RT signal queue full) loses only the
  // signal: immediate_exit still ends the next KVM_RUN and kick_until_out re-kicks.
  ::pthread_kill(thread_, kick_signal());
  return generation;
}

uint64_t VcpuKick::request() {
  std::lock_guard lock(mu_);
  return request_locked();
}

bool VcpuKick::out_locked(uint64_t generation) const {
  // Not in the guest with our generation armed: its next KVM_RUN returns at once.
  return !alive_.load(std::memory_order_relaxed) || served_.load(std::memory_order_relaxed) >= generation ||
         !in_guest_.load(std::memory_order_seq_cst);
}

bool VcpuKick::kick_until_out(std::chrono::milliseconds deadline, std::chrono::milliseconds period) {
  using clock = std::chrono::steady_clock;
  const auto end = clock::now() + deadline;
  std::unique_lock lock(mu_);
  const uint64_t generation = request_locked();
  if (generation == 0) return true;  // detached (or never attached): nothing to leave
  while (!out_locked(generation)) {
    const auto now = clock::now();
    if (now >= end) return false;
    // One kick is enough for a thread that enters KVM_RUN with the signal unblocked;
    // re-kicks cover one that had it blocked for a while or sat in a restarting syscall.
    if (out_cv_.wait_until(lock, std::min(now + period, end)) == std::cv_status::timeout && !out_locked(generation) &&
        clock::now() < end)
      request_locked();
  }
  return true;
}

}  // namespace ktstr::kvm
