#pragma once
// A thread with a known behaviour (spinning on a CPU or sleeping in a loop) whose TID
// the perf tests open counters for. Stops and joins when destroyed or on stop().
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace ktstr::test {

class WorkerThread {
 public:
  enum class Mode { spin, sleep_loop };

  explicit WorkerThread(Mode mode) {
    thread_ = std::thread([this, mode] {
      tid_ = ::gettid();
      while (!stop_.load(std::memory_order_relaxed)) {
        // Each 1 ms sleep is one voluntary context switch.
        if (mode == Mode::sleep_loop) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
    while (tid_.load() == 0) std::this_thread::yield();
  }
  ~WorkerThread() { stop(); }
  WorkerThread(const WorkerThread&) = delete;
  WorkerThread& operator=(const WorkerThread&) = delete;

  pid_t tid() const { return tid_.load(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::atomic<pid_t> tid_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace ktstr::test
