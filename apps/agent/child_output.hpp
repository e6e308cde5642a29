#pragma once
// A child's stdout and stderr, read from a pipe on a thread of its own: each line copied
// to the console (with a prefix) when asked, the last lines kept. A terminal-style
// progress line ("...\r...\r...") keeps what a terminal would show: the text after its
// last '\r'. Used for the scheduler under test and for payloads.
#include <atomic>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ktstr::agent {

class ChildOutput {
 public:
  /// console_fd: where lines are copied, prefixed with `console_prefix` (not owned); -1: none.
  ChildOutput(size_t tail_lines, size_t line_bytes, int console_fd = -1, std::string console_prefix = {});
  ~ChildOutput();
  ChildOutput(const ChildOutput&) = delete;
  ChildOutput& operator=(const ChildOutput&) = delete;

  /// Reads `fd` (the pipe's read end, now owned) until end of file or stop().
  void start(int fd);
  /// Stops reading after at most ~100 ms more (what was written before end of file is read).
  void stop();
  /// The last lines, each at most line_bytes.
  std::vector<std::string> lines() const;
  /// Feeds bytes as if read from the pipe (the reader's own path; also for tests).
  void feed(std::string_view bytes);
  /// The partial last line, as if end of file.
  void flush();

 private:
  void read_loop(int fd);
  void add_line(std::string line);

  size_t tail_lines_, line_bytes_;
  int console_fd_;
  std::string prefix_;
  std::string partial_;
  std::thread reader_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::deque<std::string> tail_;
};

}  // namespace ktstr::agent
