#include "system.hpp"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <vector>

#include "apps/protocol/nested_job.hpp"

#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4  // include/uapi/linux/module.h, Linux >= 5.17
#endif

namespace ktstr::nested {

namespace {
std::string g_status_path;

void write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    s.remove_prefix(static_cast<std::size_t>(n));
  }
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
}  // namespace

void say(std::string_view line) {
  // Uptime like the kernel's own lines, so the console log shows where boot time goes.
  timespec ts {};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  char stamp[48];
  std::snprintf(stamp, sizeof stamp, "[%5ld.%03ld] ", static_cast<long>(ts.tv_sec), ts.tv_nsec / 1000000);
  std::string out = std::string(stamp) + "ktstr-nested-init: ";
  out.append(line);
  out.push_back('\n');
  write_all(STDERR_FILENO, out);
}

void kick_uart(int fd) {
  ::tcflow(fd, TCOOFF);
  ::tcflow(fd, TCOON);
}

void set_status_path(std::string path) { g_status_path = std::move(path); }

bool write_status(std::string_view content) {
  if (g_status_path.empty()) return false;
  int fd = ::open(g_status_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  write_all(fd, content);
  bool ok = ::fsync(fd) == 0;
  return ::close(fd) == 0 && ok;
}

void die(const std::string& message) {
  say("error: " + message);
  write_status(encode_status({Status::Kind::error, 0, message}));
  power_off();
}

void refuse(const std::string& message) {
  say("cannot start the job: " + message);
  write_status(encode_status({Status::Kind::refused, 0, message}));
  power_off();
}

void power_off() {
  ::sync();
  ::reboot(RB_POWER_OFF);
  _exit(1);
}

void make_dirs(const std::string& path) {
  for (std::size_t i = 1; i <= path.size(); ++i)
    if (i == path.size() || path[i] == '/') ::mkdir(path.substr(0, i).c_str(), 0755);
}

void mount_or_die(const char* source, const std::string& target, const char* type,
                  unsigned long flags, const char* data) {
  if (::mount(source, target.c_str(), type, flags, data) != 0)
    die(std::string("cannot mount ") + (type ? type : "bind") + " '" + source + "' on " + target +
        ": " + std::strerror(errno));
}

std::string load_modules(const std::string& dir) {
  std::string first_error;
  std::vector<std::string> files;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') files.emplace_back(e->d_name);
    ::closedir(d);
  } else {
    die("no module directory " + dir + ": " + std::strerror(errno));
  }
  std::sort(files.begin(), files.end());
  for (const std::string& file : files) {
    const std::string path = dir + "/" + file;
    std::string name = file.substr(file.find('-') + 1);
    name = name.substr(0, name.find(".ko"));
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (first_error.empty()) first_error = "cannot open module " + path + ": " + std::strerror(errno);
      continue;
    }
    const int flags = ends_with(file, ".ko") ? 0 : MODULE_INIT_COMPRESSED_FILE;
    long rc = ::syscall(SYS_finit_module, fd, "", flags);
    int err = errno;
    ::close(fd);
    if (rc != 0 && err != EEXIST) {
      std::string why = std::strerror(err);
      if (name == "kvm" || name == "kvm-amd" || name == "kvm_amd")
        why += " (without it there is no /dev/kvm: does the outer CPU model have SVM?)";
      const std::string error = "loading module " + name + " failed: " + why;
      if (first_error.empty()) first_error = error;  // reported by the caller
      else say("error: " + error);
    }
  }
  return first_error;
}

bool read_bounded(const std::string& path, std::size_t max, std::string& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;
  out.clear();
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || out.size() + static_cast<std::size_t>(n) > max) {
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return true;
}

void loopback_up() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    say(std::string("warning: no socket to bring lo up: ") + std::strerror(errno));
    return;
  }
  ifreq ifr {};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(fd, SIOCGIFFLAGS, &ifr) != 0 || (ifr.ifr_flags |= IFF_UP, ::ioctl(fd, SIOCSIFFLAGS, &ifr)) != 0)
    say(std::string("warning: cannot bring lo up: ") + std::strerror(errno));
  ::close(fd);
}

}  // namespace ktstr::nested
