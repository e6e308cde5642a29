#pragma once
// A `ktstr-actors worker` started as a user would (a child process, its output in a log
// file), on loopback with a port the OS picks; the test reads the port from its first line.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/files.hpp"

namespace ktstr::test {

struct WorkerProcess {
  pid_t pid = -1;
  uint16_t port = 0;
  std::filesystem::path log;
  std::string address() const { return "127.0.0.1:" + std::to_string(port); }
  std::string output() const { return slurp(log); }
  void kill(int sig = SIGKILL) {
    if (pid > 0) {
      ::kill(pid, sig);
      int status = 0;
      ::waitpid(pid, &status, 0);
      pid = -1;
    }
  }
  ~WorkerProcess() { kill(SIGTERM); }
};

/// Starts `ktstr-actors worker --listen 127.0.0.1:0 ARGS...`; port 0 if it never said where it listens (10 s).
inline std::unique_ptr<WorkerProcess> start_worker(const std::vector<std::string>& args, const std::filesystem::path& log) {
  auto w = std::make_unique<WorkerProcess>();
  w->log = log;
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  w->pid = ::fork();
  if (w->pid == 0) {
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<std::string> all = {KTSTR_CLI_PATH, "worker", "--listen", "127.0.0.1:0"};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(KTSTR_CLI_PATH, argv.data());
    ::_exit(127);
  }
  ::close(fd);
  const std::regex listening("worker listening on 127\\.0\\.0\\.1:([0-9]+)");
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < until) {
    std::smatch m;
    const std::string out = slurp(log);
    if (std::regex_search(out, m, listening)) {
      w->port = static_cast<uint16_t>(std::stoi(m[1]));
      break;
    }
    int status = 0;
    if (::waitpid(w->pid, &status, WNOHANG) == w->pid) {
      w->pid = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return w;
}

}  // namespace ktstr::test
