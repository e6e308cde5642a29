#include "test_hooks.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "apps/protocol/guest_paths.hpp"

namespace ktstr::agent {

namespace {

// A day is far beyond any test; the bound keeps a typo from holding a VM forever.
constexpr uint32_t kMaxHoldSeconds = 24 * 3600;

bool write_file(const char* path, const char* text, std::string& why) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    why = std::string("open ") + path + ": " + std::strerror(errno);
    return false;
  }
  bool ok = ::write(fd, text, std::strlen(text)) == static_cast<ssize_t>(std::strlen(text));
  if (!ok) why = std::string("write ") + path + ": " + std::strerror(errno);
  ::close(fd);
  return ok;
}

}  // namespace

TestHooks parse_test_hooks(std::string_view cmdline) {
  TestHooks hooks;
  while (!cmdline.empty()) {
    auto start = cmdline.find_first_not_of(" \t\n");
    if (start == std::string_view::npos) break;
    cmdline.remove_prefix(start);
    auto word = cmdline.substr(0, cmdline.find_first_of(" \t\n"));
    cmdline.remove_prefix(word.size());

    auto eq = word.find('=');
    auto key = word.substr(0, eq);
    auto value = eq == std::string_view::npos ? std::string_view{} : word.substr(eq + 1);
    if (key == protocol::kHookPanic) {
      hooks.panic = value == "1";
      if (value != "0" && value != "1") hooks.errors.push_back(std::string(protocol::kHookPanic) + " wants 0 or 1, got \"" + std::string(value) + "\"");
    } else if (key == protocol::kHookHang) {
      hooks.hang = value == "1";
      if (value != "0" && value != "1") hooks.errors.push_back(std::string(protocol::kHookHang) + " wants 0 or 1, got \"" + std::string(value) + "\"");
    } else if (key == protocol::kHookKillSchedulerMs) {
      uint32_t ms = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
      if (value.empty() || ec != std::errc() || p != value.data() + value.size() || ms > kMaxHoldSeconds * 1000)
        hooks.errors.push_back(std::string(protocol::kHookKillSchedulerMs) + " wants milliseconds, got \"" + std::string(value) + "\"");
      else
        hooks.kill_scheduler_ms = ms;
    } else if (key == protocol::kHookHoldSeconds) {
      uint32_t seconds = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
      if (value.empty() || ec != std::errc() || p != value.data() + value.size() || seconds > kMaxHoldSeconds)
        hooks.errors.push_back(std::string(protocol::kHookHoldSeconds) + " wants seconds in 0.." + std::to_string(kMaxHoldSeconds) + ", got \"" +
                               std::string(value) + "\"");
      else
        hooks.hold_s = seconds;
    }
  }
  return hooks;
}

std::string crash_kernel() {
  std::string why;
  // sysrq may be restricted by the kernel's default mask; 1 enables every function.
  if (!write_file("/proc/sys/kernel/sysrq", "1", why)) return why;
  if (!write_file("/proc/sysrq-trigger", "c", why)) return why;
  return "sysrq 'c' was written but the kernel did not crash";
}

}  // namespace ktstr::agent
