#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>

#include "kvm/error.hpp"
#include "kvm/kick.hpp"

using namespace ktstr::kvm;
using namespace std::chrono_literals;

namespace {

struct Pipe {
  int read_end = -1, write_end = -1;
  Pipe() {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    read_end = fds[0];
    write_end = fds[1];
  }
  ~Pipe() {
    ::close(read_end);
    ::close(write_end);
  }
  void wake() const { REQUIRE(::write(write_end, "x", 1) == 1); }
};

uint8_t immediate_exit(const kvm_run& run) {
  // SAFETY: a test-owned kvm_run; volatile because the kicker writes it from another thread.
  return reinterpret_cast<const volatile uint8_t*>(&run.immediate_exit)[0];
}

/// Stands in for KVM_RUN: polls immediate_exit once at entry as KVM does, then blocks
/// until a signal (-EINTR) or a byte on `fd` (0). With `during`, the signal mask is
/// swapped atomically for the wait (ppoll), as KVM checks for pending signals.
int fake_kvm_run(VcpuKick& kick, const kvm_run& run, int fd, const sigset_t* during = nullptr) {
  kick.enter_guest();
  int rc = -EINTR;
  if (immediate_exit(run) == 0) {
    if (during) {
      pollfd p{fd, POLLIN, 0};
      rc = ::ppoll(&p, 1, nullptr, during) < 0 ? -errno : 0;
      char c;
      if (rc == 0 && ::read(fd, &c, 1) != 1) rc = -EIO;
    } else {
      char c;
      rc = ::read(fd, &c, 1) < 0 ? -errno : 0;
    }
  }
  kick.leave_guest();
  return rc;
}

/// Test thread only (Catch assertions are not thread-safe): polls until `done` holds,
/// failing the test after 10 s instead of hanging.
template <typename Pred>
void wait_until(Pred done) {
  const auto end = std::chrono::steady_clock::now() + 10s;
  while (!done()) {
    REQUIRE(std::chrono::steady_clock::now() < end);
    std::this_thread::sleep_for(1ms);
  }
}

/// vCPU-thread side of a handshake: no Catch assertions off the test thread.
template <typename Pred>
void spin_until(Pred done) {
  while (!done()) std::this_thread::yield();
}

/// The syscall thread `tid` is blocked in, per /proc (-1 when running in user space).
long current_syscall(pid_t tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/syscall");
  std::string first;
  if (!(in >> first) || first == "running") return -1;
  return std::stol(first);
}

void block_kick_signal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, kick_signal());
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);  // runs on vCPU threads: no Catch here
}

}  // namespace

TEST_CASE("the kick handler is installed once, without SA_RESTART, and refuses a foreign handler") {
  install_kick_handler();
  install_kick_handler();  // idempotent
  CHECK(kick_handler_installed());
  struct sigaction ours {};
  REQUIRE(::sigaction(kick_signal(), nullptr, &ours) == 0);
  CHECK((ours.sa_flags & SA_RESTART) == 0);

  struct sigaction foreign {};
  foreign.sa_handler = [](int) {};
  sigemptyset(&foreign.sa_mask);
  REQUIRE(::sigaction(kick_signal(), &foreign, nullptr) == 0);
  CHECK_FALSE(kick_handler_installed());
  CHECK_THROWS_AS(install_kick_handler(), Error);
  REQUIRE(::sigaction(kick_signal(), &ours, nullptr) == 0);
  CHECK(kick_handler_installed());
}

TEST_CASE("unblocking the kick signal refuses without the handler and takes effect with it") {
  install_kick_handler();
  struct sigaction ours {};
  REQUIRE(::sigaction(kick_signal(), nullptr, &ours) == 0);
  bool threw_without_handler = false, blocked_before = false, blocked_after = true;
  std::thread vcpu([&] {
    block_kick_signal();
    blocked_before = kick_signal_blocked();
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(kick_signal(), &dfl, nullptr);
    try {
      unblock_kick_signal();
    } catch (const Error&) {
      threw_without_handler = true;
    }
    ::sigaction(kick_signal(), &ours, nullptr);
    unblock_kick_signal();
    blocked_after = kick_signal_blocked();
  });
  vcpu.join();
  CHECK(kick_handler_installed());
  CHECK(blocked_before);
  CHECK(threw_without_handler);
  CHECK_FALSE(blocked_after);
}

TEST_CASE("one kick interrupts a vCPU thread blocked in a syscall") {
  install_kick_handler();
  Pipe pipe;
  kvm_run run{};
  VcpuKick kick;
  std::atomic<pid_t> tid{0};
  std::atomic<int> rc{1};
  std::atomic<bool> fresh{false};
  std::thread vcpu([&] {
    unblock_kick_signal();
    kick.attach(&run);
    tid = ::gettid();
    rc = fake_kvm_run(kick, run, pipe.read_end);
    fresh = kick.consume();
    kick.detach();
  });
  wait_until([&] { return tid != 0 && kick.in_guest() && current_syscall(tid) == SYS_read; });
  CHECK(kick.kick());
  vcpu.join();
  CHECK(rc == -EINTR);
  CHECK(fresh);
  CHECK(kick.kicks_sent() == 1);
  CHECK(kick.served() == 1);
  CHECK(immediate_exit(run) == 0);
}

TEST_CASE("a kick between the mailbox drain and KVM_RUN makes that run return at once") {
  install_kick_handler();
  Pipe pipe;
  kvm_run run{};
  VcpuKick kick;
  std::atomic<bool> attached{false}, drained{false};
  std::atomic<int> rc{1};
  std::thread vcpu([&] {
    // The signal stays blocked even during the run: only immediate_exit can end it.
    block_kick_signal();
    kick.attach(&run);
    attached = true;
    spin_until([&] { return drained.load(); });
    sigset_t still_blocked;
    ::pthread_sigmask(SIG_BLOCK, nullptr, &still_blocked);
    rc = fake_kvm_run(kick, run, pipe.read_end, &still_blocked);
    kick.consume();
    kick.detach();
  });
  wait_until([&] { return attached.load(); });
  REQUIRE(kick.request() == 1);  // the mailbox was drained before this message
  drained = true;
  vcpu.join();
  CHECK(rc == -EINTR);
  CHECK(kick.served() == 1);
}

TEST_CASE("consume serves every kick so far, reports a repeat as stale and leaves a later kick armed") {
  install_kick_handler();
  unblock_kick_signal();
  kvm_run run{};
  VcpuKick kick;
  kick.attach(&run);  // this thread plays the vCPU; its kicks are handled on the spot
  CHECK(kick.request() == 1);
  CHECK(kick.request() == 2);
  CHECK(immediate_exit(run) == 1);
  CHECK(kick.consume());
  CHECK(kick.served() == 2);
  CHECK(immediate_exit(run) == 0);
  CHECK_FALSE(kick.consume());  // an EINTR with nothing new requested
  CHECK(immediate_exit(run) == 0);
  CHECK(kick.request() == 3);
  CHECK(immediate_exit(run) == 1);
  CHECK(kick.consume());
  kick.detach();
}

TEST_CASE("a signal delivered after its kick was served does not cut the next run short") {
  install_kick_handler();
  Pipe pipe;
  kvm_run run{};
  VcpuKick kick;
  std::atomic<pid_t> tid{0};
  std::atomic<bool> go{false};
  std::atomic<int> first_rc{1}, fresh_runs{0}, stale_runs{0};
  std::thread vcpu([&] {
    // Blocked outside the run, so the kick's signal stays pending past its service.
    block_kick_signal();
    sigset_t during;
    sigemptyset(&during);
    kick.attach(&run);
    tid = ::gettid();
    spin_until([&] { return go.load(); });
    // Run 1 ends on immediate_exit; its signal is still pending when consume() serves it.
    first_rc = fake_kvm_run(kick, run, pipe.read_end, &during);
    if (kick.consume()) ++fresh_runs;
    // The vCPU loop: a stale EINTR goes straight back into the guest.
    for (;;) {
      if (fake_kvm_run(kick, run, pipe.read_end, &during) != -EINTR) break;
      if (kick.consume()) {
        ++fresh_runs;
        break;
      }
      ++stale_runs;
    }
    kick.detach();
  });
  wait_until([&] { return tid != 0; });
  REQUIRE(kick.request() == 1);
  go = true;
  wait_until([&] { return stale_runs == 1 && kick.in_guest() && current_syscall(tid) == SYS_ppoll; });
  CHECK(first_rc == -EINTR);
  CHECK(fresh_runs == 1);
  CHECK(kick.served() == 1);
  CHECK(immediate_exit(run) == 0);  // the late signal did not re-arm the run
  REQUIRE(kick.request() == 2);
  vcpu.join();
  CHECK(fresh_runs == 2);
  CHECK(stale_runs == 1);
  CHECK(kick.served() == 2);
}

TEST_CASE("kick skips the immediate_exit write before attach and after detach") {
  install_kick_handler();
  unblock_kick_signal();
  kvm_run run{};
  VcpuKick kick;
  CHECK_FALSE(kick.kick());
  CHECK(kick.request() == 0);
  CHECK(kick.kick_until_out(1s));  // nothing attached: nothing to get out
  CHECK(immediate_exit(run) == 0);
  kick.attach(&run);
  kick.detach();
  CHECK_FALSE(kick.kick());
  CHECK(kick.kick_until_out(1s));
  CHECK(immediate_exit(run) == 0);
  CHECK(kick.kicks_sent() == 0);
}

TEST_CASE("no kick reaches the run page once detach returned, while another thread keeps kicking") {
  install_kick_handler();
  const long page = ::sysconf(_SC_PAGESIZE);
  void* mem = ::mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  REQUIRE(mem != MAP_FAILED);
  VcpuKick kick;
  std::atomic<bool> attached{false}, unmapped{false};
  std::thread vcpu([&] {
    unblock_kick_signal();
    // SAFETY: a fresh anonymous page standing in for the vCPU's mmap'ed kvm_run.
    kick.attach(reinterpret_cast<kvm_run*>(mem));
    attached = true;
    spin_until([&] { return kick.kicks_sent() >= 3; });
    kick.detach();
    ::munmap(mem, page);  // a write from here on would fault
    unmapped = true;
  });
  wait_until([&] { return attached.load(); });
  // Kicks race the detach in bursts. Each kick queues one SIGRTMIN (real-time signals
  // do not coalesce): an unpaced loop floods the vCPU thread, which then spends its CPU
  // in the handler instead of reaching detach, and once filled the process's signal
  // queue (seen: SigQ 96362/96362, minutes). A pause after every burst lets the
  // handler drain the queue; a bound on the kicks ends the test if detach never comes.
  constexpr int kBurst = 16;
  constexpr uint64_t kMaxKicks = 200000;
  const auto end = std::chrono::steady_clock::now() + 10s;
  uint64_t sent_before_unmap = 0;
  while (!unmapped && sent_before_unmap < kMaxKicks && std::chrono::steady_clock::now() < end) {
    for (int i = 0; i < kBurst; ++i) sent_before_unmap += kick.kick();
    std::this_thread::sleep_for(50us);
  }
  wait_until([&] { return unmapped.load(); });  // fails (after 10 s) rather than hangs
  int landed_after_unmap = 0;
  for (int i = 0; i < 1000; ++i) landed_after_unmap += kick.kick();
  vcpu.join();
  CHECK(landed_after_unmap == 0);
  CHECK(kick.kicks_sent() >= 3);
  CHECK(sent_before_unmap < kMaxKicks);
}

TEST_CASE("kick_until_out returns true once the vCPU thread has left the run") {
  install_kick_handler();
  Pipe pipe, finish;
  kvm_run run{};
  VcpuKick kick;
  std::atomic<pid_t> tid{0};
  std::atomic<int> rc{1};
  std::thread vcpu([&] {
    unblock_kick_signal();
    kick.attach(&run);
    tid = ::gettid();
    rc = fake_kvm_run(kick, run, pipe.read_end);
    kick.consume();
    char c;
    while (::read(finish.read_end, &c, 1) < 0 && errno == EINTR) {
    }
    kick.detach();
  });
  wait_until([&] { return tid != 0 && kick.in_guest() && current_syscall(tid) == SYS_read; });
  CHECK(kick.kick_until_out(5s));
  CHECK_FALSE(kick.in_guest());
  wait_until([&] { return kick.served() >= 1; });
  CHECK(rc == -EINTR);
  finish.wake();
  vcpu.join();
}

TEST_CASE("kick_until_out counts a vCPU between runs as out and leaves the kick armed") {
  install_kick_handler();
  unblock_kick_signal();
  kvm_run run{};
  VcpuKick kick;
  kick.attach(&run);  // attached, not in the guest
  CHECK(kick.kick_until_out(1s));
  CHECK(immediate_exit(run) == 1);  // its next KVM_RUN returns at once
  CHECK(kick.served() == 0);
  CHECK(kick.consume());
  kick.detach();
}

TEST_CASE("kick_until_out gives up at the deadline when the vCPU thread ignores kicks") {
  install_kick_handler();
  Pipe pipe;
  kvm_run run{};
  VcpuKick kick;
  std::atomic<pid_t> tid{0};
  std::atomic<int> rc{1};
  std::thread vcpu([&] {
    block_kick_signal();  // deaf to kicks: only a byte on the pipe ends its run
    kick.attach(&run);
    tid = ::gettid();
    rc = fake_kvm_run(kick, run, pipe.read_end);
    kick.detach();
  });
  wait_until([&] { return tid != 0 && kick.in_guest() && current_syscall(tid) == SYS_read; });
  const auto start = std::chrono::steady_clock::now();
  const bool out = kick.kick_until_out(200ms, 10ms);
  const auto waited = std::chrono::steady_clock::now() - start;
  CHECK_FALSE(out);
  CHECK(waited >= 200ms);
  CHECK(kick.kicks_sent() >= 2);  // re-kicked while waiting
  CHECK(kick.served() == 0);
  pipe.wake();
  vcpu.join();
  CHECK(rc == 0);
}
