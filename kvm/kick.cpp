#include "kvm/kick.hpp"

#include <csignal>

#include "kvm/error.hpp"

namespace ktstr::kvm {

namespace {

// SAFETY: async-signal-safe; it only orders memory so the interrupted thread sees
// immediate_exit and any message published before the kick.
void on_kick(int) { std::atomic_thread_fence(std::memory_order_acquire); }

}  // namespace

int kick_signal() { return SIGRTMIN; }

void install_kick_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_handler = on_kick;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: KVM_RUN must come back with EINTR
    if (::sigaction(kick_signal(), &sa, nullptr) != 0)
      throw_errno(ErrorKind::system, "sigaction(SIGRTMIN) for the vCPU kick");
  });
}

void unblock_kick_signal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, kick_signal());
  if (int err = ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr); err != 0) {
    errno = err;
    throw_errno(ErrorKind::system, "pthread_sigmask(SIG_UNBLOCK, SIGRTMIN)");
  }
}

void VcpuKick::attach(kvm_run* run) {
  std::lock_guard lock(mu_);
  run_ = run;
  thread_ = ::pthread_self();
  alive_.store(true, std::memory_order_release);
}

void VcpuKick::detach() {
  std::lock_guard lock(mu_);
  alive_.store(false, std::memory_order_release);
  run_ = nullptr;
}

bool VcpuKick::kick() {
  std::lock_guard lock(mu_);
  if (!alive_.load(std::memory_order_relaxed)) return false;
  // SAFETY: run_ is the vCPU's mapped kvm_run; detach() (under mu_) clears it before unmap.
  reinterpret_cast<volatile uint8_t*>(&run_->immediate_exit)[0] = 1;
  std::atomic_thread_fence(std::memory_order_release);
  kicks_.fetch_add(1, std::memory_order_relaxed);
  return ::pthread_kill(thread_, kick_signal()) == 0;
}

void VcpuKick::consume(kvm_run* run) {
  // SAFETY: called on the vCPU's own thread while its run page is mapped.
  reinterpret_cast<volatile uint8_t*>(&run->immediate_exit)[0] = 0;
  std::atomic_thread_fence(std::memory_order_acq_rel);
}

}  // namespace ktstr::kvm
