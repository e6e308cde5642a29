#include "scheduler_runner.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sysfs_text.hpp"
#include "workers/worker_context.hpp"

namespace ktstr::agent {

using namespace protocol;  // the plan's types (apps/protocol/plan.hpp)

SchedulerRunner::SchedulerRunner(SchedulerSpec spec, std::string sched_ext_root, int console_fd)
    : spec_(std::move(spec)),
      root_(std::move(sched_ext_root)),
      output_(kTailLines, kLineBytes, console_fd, "scheduler: ") {}

SchedulerRunner::~SchedulerRunner() {
  if (pid_ > 0 && !exited_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  output_.stop();
}

std::optional<std::string> SchedulerRunner::unsupported_reason() const {
  if (!path_exists(root_)) return "no " + root_ + " (kernel built without CONFIG_SCHED_CLASS_EXT)";
  return std::nullopt;
}

std::optional<std::string> SchedulerRunner::start() {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);
  std::vector<std::string> args = {spec_.path};
  args.insert(args.end(), spec_.args.begin(), spec_.args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) {
    ::close(out[0]), ::close(out[1]);
    return std::string("fork: ") + std::strerror(errno);
  }
  if (pid_ == 0) {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int s = 1; s < NSIG; ++s) ::signal(s, SIG_DFL);
    int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, 0);
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    char* envp[] = {const_cast<char*>("PATH=/usr/sbin:/usr/bin:/sbin:/bin"), nullptr};
    ::execve(argv[0], argv.data(), envp);
    std::string why = "exec " + spec_.path + ": " + std::strerror(errno) + "\n";
    [[maybe_unused]] auto n = ::write(2, why.data(), why.size());
    ::_exit(127);
  }
  ::close(out[1]);
  output_.start(out[0]);
  return std::nullopt;
}

std::string SchedulerRunner::state() const { return read_text(root_ + "/state").value_or(""); }
std::string SchedulerRunner::ops() const { return read_text(root_ + "/root/ops").value_or(""); }

std::vector<std::string> SchedulerRunner::output() const { return output_.lines(); }

bool SchedulerRunner::consume(std::vector<Reaped>& reaped) {
  if (pid_ <= 0 || exited_) return false;
  for (auto it = reaped.begin(); it != reaped.end(); ++it) {
    if (it->pid != pid_) continue;
    exited_ = true;
    exit_status_ = WIFSIGNALED(it->status) ? "signal " + std::to_string(WTERMSIG(it->status))
                                            : "exit " + std::to_string(WEXITSTATUS(it->status));
    reaped.erase(it);
    // Let the reader drain what the scheduler wrote last.
    ::usleep(20000);
    return true;
  }
  return false;
}

void SchedulerRunner::stop(std::vector<Reaped>* others) {
  if (pid_ > 0 && !exited_) {
    ::kill(pid_, SIGINT);
    int64_t deadline = mono_ns() + 2'000'000'000;
    bool killed = false;
    while (!exited_) {
      auto reaped = reap_children();
      consume(reaped);
      if (others) others->insert(others->end(), reaped.begin(), reaped.end());
      if (exited_) break;
      if (!killed && mono_ns() >= deadline) {
        ::kill(pid_, SIGKILL);
        killed = true;
      }
      ::usleep(5000);
    }
  }
  output_.stop();
}

}  // namespace ktstr::agent
