#include "mounts.hpp"

#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace ktstr::agent {

namespace {

struct PseudoMount {
  const char* source;
  const char* target;
  const char* fstype;
  unsigned long flags;
  const char* options;
};

// Order matters: /sys/fs/cgroup only exists once sysfs is mounted.
constexpr PseudoMount kMounts[] = {
    {"proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr},
    {"sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr},
    {"devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755"},
    {"cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr},
};

std::string describe(const PseudoMount& m, const char* step, int err) {
  return std::string(step) + " " + m.target + " (" + m.fstype + "): " + std::strerror(err);
}

}  // namespace

std::vector<std::string> mount_pseudo_filesystems() {
  std::vector<std::string> errors;
  for (const auto& m : kMounts) {
    if (::mkdir(m.target, 0755) != 0 && errno != EEXIST) {
      errors.push_back(describe(m, "mkdir", errno));
      continue;
    }
    // EBUSY: the kernel (devtmpfs.mount=1) or an earlier stage mounted it already.
    if (::mount(m.source, m.target, m.fstype, m.flags, m.options) != 0 && errno != EBUSY)
      errors.push_back(describe(m, "mount", errno));
  }
  return errors;
}

}  // namespace ktstr::agent
