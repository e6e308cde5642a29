#pragma once
// The sched_ext scheduler under test: started before the workers, its output copied to
// the console (prefixed "scheduler: ") with the last lines kept for events, watched for
// exiting or being ejected, stopped at the end (SIGINT, SIGKILL after 2 s).
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "agent_channel.hpp"
#include "child_output.hpp"
#include "apps/protocol/plan.hpp"
#include "workers/worker_set.hpp"

namespace ktstr::agent {

class SchedulerRunner {
 public:
  static constexpr size_t kTailLines = 20;
  static constexpr size_t kLineBytes = 200;

  /// console_fd: where output lines are copied (not owned); -1: none.
  SchedulerRunner(protocol::SchedulerSpec spec, std::string sched_ext_root, int console_fd);
  ~SchedulerRunner();

  /// Why sched_ext cannot be used, or nullopt.
  std::optional<std::string> unsupported_reason() const;
  /// Forks and execs the scheduler. Returns an error when it could not be started.
  std::optional<std::string> start();
  pid_t pid() const { return pid_; }
  /// /sys/kernel/sched_ext/state ("enabled", "disabled", ...), "" when unreadable.
  std::string state() const;
  std::string ops() const;
  /// The last output lines.
  std::vector<std::string> output() const;
  /// Takes the scheduler's entry from `reaped`; true when it just exited.
  bool consume(std::vector<Reaped>& reaped);
  bool exited() const { return exited_; }
  /// "exit N" or "signal N".
  const std::string& exit_status() const { return exit_status_; }
  /// SIGINT, SIGKILL after 2 s; reaps it. Other children reaped meanwhile go to `others`.
  void stop(std::vector<Reaped>* others = nullptr);

 private:
  protocol::SchedulerSpec spec_;
  std::string root_;
  pid_t pid_ = -1;
  bool exited_ = false;
  std::string exit_status_;
  ChildOutput output_;
};

}  // namespace ktstr::agent
