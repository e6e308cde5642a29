#include "apps/cli/nested/qemu_emulator.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>

#include "apps/cli/process/child_process.hpp"
#include "apps/cli/kernel/kernel_cache.hpp"

namespace ktstr::cli {

namespace fs = std::filesystem;

namespace {

// One decimal component at the front of text, consumed; nullopt when there is none.
std::optional<unsigned> take_number(std::string_view& text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  text.remove_prefix(static_cast<std::size_t>(end - text.data()));
  return value;
}

bool is_executable_file(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec) && ::access(path.c_str(), X_OK) == 0;
}

// Reads the child's stdout until end of file (true), or the deadline or max bytes (false).
bool read_bounded(int fd, std::chrono::steady_clock::time_point deadline, std::size_t max, std::string& out) {
  char buf[1024];
  while (out.size() < max) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0) return false;
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return true;
    if (n < 0) return false;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return false;
}

}  // namespace

std::optional<QemuVersion> parse_qemu_version(std::string_view output) {
  constexpr std::string_view marker = "QEMU emulator version ";
  const std::size_t at = output.find(marker);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = output.substr(at + marker.size());
  QemuVersion v;
  auto major = take_number(rest);
  if (!major || rest.empty() || rest.front() != '.') return std::nullopt;
  rest.remove_prefix(1);
  auto minor = take_number(rest);
  if (!minor) return std::nullopt;
  v.major = *major;
  v.minor = *minor;
  if (!rest.empty() && rest.front() == '.') {  // QEMU prints three parts; accept two
    rest.remove_prefix(1);
    if (auto micro = take_number(rest)) v.micro = *micro;
  }
  return v;
}

std::string to_string(const QemuVersion& v) {
  return std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.micro);
}

std::vector<fs::path> qemu_data_dirs(const fs::path& binary) {
  const fs::path prefix = binary.parent_path().parent_path();
  if (prefix.lexically_normal() == "/usr") return {};
  std::vector<fs::path> dirs;
  for (const char* dir : {"share/qemu", "share/seabios"}) {
    std::error_code ec;
    if (fs::is_directory(prefix / dir, ec)) dirs.push_back(prefix / dir);
  }
  return dirs;
}

std::optional<QemuEmulator> find_qemu(const Environment& env) {
  if (env.qemu) {
    if (!is_executable_file(*env.qemu)) return std::nullopt;
    return QemuEmulator{*env.qemu, qemu_data_dirs(*env.qemu), "$KTSTR_QEMU"};
  }
  const fs::path cached = env.cache_dir / "qemu" / "current" / "usr" / "bin" / "qemu-system-x86_64";
  if (is_executable_file(cached)) return QemuEmulator{cached, qemu_data_dirs(cached), "the cache"};
  if (auto in_path = find_in_path("qemu-system-x86_64"))
    return QemuEmulator{*in_path, qemu_data_dirs(*in_path), "PATH"};
  return std::nullopt;
}

std::optional<std::string> qemu_version_output(const fs::path& binary) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return std::nullopt;
  const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  pid_t pid = -1;
  try {
    pid = spawn_process(binary, {binary.filename().string(), "--version"},
                        {{0, null_fd}, {1, pipe_fds[1]}, {2, null_fd}});
  } catch (const std::exception&) {
  }
  ::close(pipe_fds[1]);
  if (null_fd >= 0) ::close(null_fd);
  if (pid < 0) {
    ::close(pipe_fds[0]);
    return std::nullopt;
  }
  // It answers at once; the bounds keep a wedged or chatty binary from holding up the run.
  std::string out;
  const bool eof = read_bounded(pipe_fds[0], std::chrono::steady_clock::now() + std::chrono::seconds(10), 4096, out);
  ::close(pipe_fds[0]);
  if (!eof) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return out;
}

}  // namespace ktstr::cli
