#pragma once
// Debian's Chromium, headless, as the browser tests drive it: its own profile folder, no
// background network, console messages logged to stderr (one "...:CONSOLE..." line each),
// a time bound. KTSTR_CHROMIUM names another binary.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "apps/cli/base/read_file.hpp"
#include "apps/cli/process/child_process.hpp"

namespace ktstr::test {

inline std::optional<std::filesystem::path> find_chromium() {
  if (const char* env = std::getenv("KTSTR_CHROMIUM"); env && *env) return std::filesystem::path(env);
  return cli::find_in_path("chromium");
}

struct BrowserRun {
  int exit_code = -1;  ///< -1: killed at the time bound
  std::string out, err;
  double seconds = 0;
  /// The console messages the page caused (Chromium logs each as "[...:INFO:CONSOLE...] "text", source: ...").
  std::vector<std::string> console_lines() const {
    std::vector<std::string> lines;
    std::istringstream in(err);
    for (std::string line; std::getline(in, line);)
      if (line.find(":CONSOLE") != std::string::npos) lines.push_back(line);
    return lines;
  }
};

/// chromium --headless ... <mode args> file://page; output and log kept in dir.
inline BrowserRun run_chromium(const std::filesystem::path& chromium, const std::filesystem::path& page,
                               const std::vector<std::string>& mode, const std::filesystem::path& dir, int timeout_s = 90) {
  static int n = 0;
  const auto tag = std::to_string(++n);
  const auto out_path = dir / ("chromium-" + tag + ".out"), err_path = dir / ("chromium-" + tag + ".err");
  std::vector<std::string> argv = {"chromium", "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
                                   "--no-default-browser-check", "--disable-background-networking",
                                   "--disable-component-update", "--disable-sync", "--disable-extensions",
                                   "--user-data-dir=" + (dir / ("profile-" + tag)).string(), "--enable-logging=stderr",
                                   "--v=0", "--hide-scrollbars", "--window-size=1280,2000"};
  argv.insert(argv.end(), mode.begin(), mode.end());
  argv.push_back("file://" + std::filesystem::absolute(page).string());
  const int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  BrowserRun r;
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = cli::spawn_process(chromium, argv, {{1, out_fd}, {2, err_fd}});
  ::close(out_fd);
  ::close(err_fd);
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() - start > std::chrono::seconds(timeout_s)) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      status = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.exit_code = status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = cli::read_file(out_path).value_or("");
  r.err = cli::read_file(err_path).value_or("");
  return r;
}

}  // namespace ktstr::test
