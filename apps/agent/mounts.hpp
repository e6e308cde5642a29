#pragma once
// The pseudo file systems PID 1 must mount itself: an initramfs starts with none.
#include <string>
#include <vector>

namespace ktstr::agent {

/// Mounts /proc, /sys, devtmpfs on /dev and cgroup2 on /sys/fs/cgroup, creating the
/// mount points. Returns one message per failure; an already mounted target is fine.
std::vector<std::string> mount_pseudo_filesystems();

}  // namespace ktstr::agent
