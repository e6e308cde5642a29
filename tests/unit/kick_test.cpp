#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <thread>

#include "kvm/kick.hpp"

using namespace ktstr::kvm;

TEST_CASE("a kick interrupts a vCPU thread blocked in a syscall and sets immediate_exit") {
  install_kick_handler();
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  kvm_run run{};
  VcpuKick kick;
  std::atomic<bool> attached{false};
  std::atomic<int> read_errno{0};
  std::thread vcpu([&] {
    unblock_kick_signal();
    kick.attach(&run);
    attached = true;
    char c;
    // Stands in for KVM_RUN: a syscall that blocks until a signal arrives.
    while (::read(fds[0], &c, 1) < 0 && errno == EINTR && run.immediate_exit == 0) {
    }
    read_errno = errno;
    kick.detach();
  });
  while (!attached) std::this_thread::yield();
  // Keep kicking until the thread is seen out of read(); one kick is normally enough,
  // but the signal may land before the thread enters read().
  for (int i = 0; i < 500 && kick.alive(); ++i) {
    kick.kick();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  vcpu.join();
  CHECK(read_errno == EINTR);
  CHECK(run.immediate_exit == 1);
  CHECK(kick.kicks_sent() >= 1);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_CASE("kick skips the immediate_exit write when the vCPU is no longer alive") {
  kvm_run run{};
  VcpuKick kick;
  CHECK_FALSE(kick.kick());  // never attached
  CHECK(run.immediate_exit == 0);
  kick.attach(&run);
  kick.detach();
  CHECK_FALSE(kick.kick());
  CHECK(run.immediate_exit == 0);
  CHECK(kick.kicks_sent() == 0);
}

TEST_CASE("consuming a kick clears immediate_exit so the next run is not cut short") {
  kvm_run run{};
  run.immediate_exit = 1;
  VcpuKick::consume(&run);
  CHECK(run.immediate_exit == 0);
}
