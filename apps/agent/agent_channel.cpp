#include "agent_channel.hpp"

#include "apps/protocol/guest_paths.hpp"

#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ktstr::agent {

namespace {

constexpr const char* kCom2 = "/dev/ttyS1";
constexpr const char* kConsole = "/dev/console";

// Raw mode: the tty layer must not turn "\n" into "\r\n" or echo anything back,
// so the host reads exactly the bytes written here.
bool make_raw(int fd) {
  termios tio;
  if (::tcgetattr(fd, &tio) != 0) return false;
  ::cfmakeraw(&tio);
  return ::tcsetattr(fd, TCSANOW, &tio) == 0;
}

// O_NOCTTY: PID 1 must not acquire the channel as its controlling terminal.
// Read-write: the host sends its stop line (protocol::kStopCommand) the other way.
int open_tty(const char* path) { return ::open(path, O_RDWR | O_NOCTTY | O_CLOEXEC); }

}  // namespace

std::optional<std::string> AgentChannel::open() {
  fd_ = open_tty(kCom2);
  if (fd_ >= 0 && make_raw(fd_)) {
    on_com2_ = true;
    return std::nullopt;
  }
  // ttyS1 exists even without a UART behind it: open works, then termios calls fail
  // with EIO and every write would vanish. Either way COM2 is unusable.
  std::string why = std::string(kCom2) + (fd_ < 0 ? " cannot be opened: " : " has no working UART: ") +
                    std::strerror(errno) + "; writing to " + kConsole;
  if (fd_ >= 0) ::close(fd_);
  fd_ = open_tty(kConsole);
  if (fd_ >= 0) make_raw(fd_);
  return why;
}

void AgentChannel::open_stdout() {
  fd_ = ::dup(STDOUT_FILENO);
  on_com2_ = false;
}

void AgentChannel::emit(const protocol::AgentEvent& event) {
  try {
    std::lock_guard lock(mutex_);
    const Json line = protocol::to_json(event, seq_++);
    // replace: kernel strings (cmdline, version) may hold bytes that are not UTF-8,
    // and the default strict mode would throw on them.
    write_all(line.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n");
  } catch (...) {
    // Nothing sensible is left to report on: the channel itself is what failed.
  }
}

void AgentChannel::emit_error(const std::string& message) {
  emit(protocol::AgentError{0, message});
  // The copy lands in the kernel log on COM1; when the protocol itself falls back to
  // the console, a copy would be a non-JSON line in the protocol stream.
  if (!on_com2_) return;
  std::string copy = "ktstr-agent: " + message + "\n";
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, copy.data(), copy.size());
}

void AgentChannel::write_all(const std::string& line) {
  if (fd_ < 0) return;
  std::size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

bool AgentChannel::wait_for_stop(int timeout_ms) {
  if (fd_ < 0 || !on_com2_) {
    ::poll(nullptr, 0, timeout_ms);
    return false;
  }
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0 || !(p.revents & POLLIN)) return false;
  char buf[256];
  const ssize_t n = ::read(fd_, buf, sizeof buf);
  if (n <= 0) return false;
  // The host is trusted less than it seems: keep a bounded tail and look for the command.
  input_.append(buf, static_cast<size_t>(n));
  if (input_.size() > 4096) input_.erase(0, input_.size() - 4096);
  for (size_t nl; (nl = input_.find('\n')) != std::string::npos; input_.erase(0, nl + 1))
    if (std::string_view(input_).substr(0, nl) == protocol::kStopCommand) return true;
  return false;
}

}  // namespace ktstr::agent
