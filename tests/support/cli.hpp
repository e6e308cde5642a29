#pragma once
// Runs the ktstr-actors CLI as a child process, as a user would, with a time bound.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ktstr::test {

struct CliResult {
  int exit_code = -1;     ///< -1 when killed by the time bound
  std::string output;     ///< stdout and stderr, interleaved
  double seconds = 0;
};

/// env entries are NAME=VALUE added to (or overriding) ours; cwd (if given) is where it runs.
inline CliResult run_cli(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
                         int timeout_s = 600, const std::filesystem::path& cwd = {}) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return {};
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipefd[1], 1);
    ::dup2(pipefd[1], 2);
    for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
    std::vector<char*> argv{const_cast<char*>(KTSTR_CLI_PATH)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(KTSTR_CLI_PATH, argv.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  CliResult r;
  char buf[4096];
  pollfd p{pipefd[0], POLLIN, 0};
  while (true) {
    auto left = std::chrono::seconds(timeout_s) - (std::chrono::steady_clock::now() - start);
    int ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(left).count());
    if (ms <= 0) {
      ::kill(pid, SIGKILL);
      break;
    }
    if (::poll(&p, 1, ms) <= 0) continue;
    ssize_t n = ::read(pipefd[0], buf, sizeof buf);
    if (n <= 0) break;
    r.output.append(buf, static_cast<size_t>(n));
  }
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return nullptr;
  return nlohmann::json::parse(in, nullptr, false);
}

/// A fresh directory for one test's files: under $KTSTR_TEST_SCRATCH when set
/// (scripts/test.sh points it into the build tree, so a failed run's console log
/// outlives the nested host), else under the temp directory.
inline std::filesystem::path scratch_dir(const std::string& name) {
  const char* base = std::getenv("KTSTR_TEST_SCRATCH");
  const std::filesystem::path root = base && *base ? std::filesystem::path(base) : std::filesystem::temp_directory_path();
  auto dir = root / ("ktstr-test-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace ktstr::test
