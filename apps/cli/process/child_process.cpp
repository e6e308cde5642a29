#include "apps/cli/process/child_process.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace ktstr::cli {

namespace fs = std::filesystem;

std::optional<fs::path> find_in_path(std::string_view name) {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path && *path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    std::size_t colon = dirs.find(':');
    std::string_view dir = dirs.substr(0, colon);
    dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
    fs::path candidate = fs::path(dir.empty() ? "." : std::string(dir)) / name;
    if (::access(candidate.c_str(), X_OK) == 0 && fs::is_regular_file(candidate)) return candidate;
  }
  return std::nullopt;
}

pid_t spawn_process(const fs::path& program, const std::vector<std::string>& argv,
                    const std::vector<FdMapping>& fds) {
  // Everything the child needs is prepared before fork: after it only async-signal-safe
  // calls are allowed (we may have other threads).
  if (fds.size() > 16) throw std::runtime_error("spawn_process: too many descriptors");
  int max_child_fd = 2;
  for (const auto& m : fds) max_child_fd = m.child_fd > max_child_fd ? m.child_fd : max_child_fd;
  std::vector<char*> args;
  // SAFETY: the pointers refer to argv's strings, alive until execve or _exit.
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int report[2];  // the child writes errno here if execve fails; CLOEXEC closes it on success
  if (::pipe2(report, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(report[0]);
    ::close(report[1]);
    throw std::runtime_error(std::string("fork: ") + std::strerror(err));
  }
  if (pid == 0) {
    sigset_t none;  // the caller may block signals it reads through a signalfd
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) _exit(127);
    // Move the sources out of the way first: a source may be another mapping's target.
    int moved[16];
    const std::size_t n = fds.size();
    for (std::size_t i = 0; i < n; ++i) moved[i] = ::fcntl(fds[i].parent_fd, F_DUPFD_CLOEXEC, 64);
    for (std::size_t i = 0; i < n; ++i)
      if (moved[i] < 0 || ::dup2(moved[i], fds[i].child_fd) < 0) goto fail;  // dup2 clears CLOEXEC
    // Nothing else of ours leaks into the child (descriptors opened without CLOEXEC).
    ::close_range(static_cast<unsigned>(max_child_fd) + 1, ~0U, CLOSE_RANGE_CLOEXEC);
    ::execve(program.c_str(), args.data(), environ);
  fail:
    int err = errno;
    [[maybe_unused]] ssize_t w = ::write(report[1], &err, sizeof err);
    _exit(127);
  }
  ::close(report[1]);
  int child_errno = 0;
  ssize_t got;
  do got = ::read(report[0], &child_errno, sizeof child_errno);
  while (got < 0 && errno == EINTR);
  ::close(report[0]);
  if (got > 0) {
    ::waitpid(pid, nullptr, 0);
    throw std::runtime_error("cannot run " + program.string() + ": " + std::strerror(child_errno));
  }
  return pid;
}

}  // namespace ktstr::cli
