#pragma once
// cgroup2 operations for scenarios. Every operation returns an error string (empty list:
// success) so the caller can put them into the step event; nothing throws.
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace ktstr::agent {

/// "0-2,5" from {0,1,2,5}.
std::string format_cpu_list(const std::vector<int>& cpus);

class Cgroups {
 public:
  explicit Cgroups(std::string root = "/sys/fs/cgroup") : root_(std::move(root)) {}

  /// Whether root is a cgroup2 mount we can write.
  std::optional<std::string> check_root() const;
  /// Absolute directory of a relative cgroup path ("" is the root).
  std::string dir(const std::string& path) const;

  /// Enables +cpuset +cpu on every ancestor (root included), creates the missing
  /// directories, then writes cpuset.cpus (and cpuset.mems) when cpus is set.
  std::vector<std::string> create(const std::string& path, const std::optional<std::vector<int>>& cpus);
  /// Writes cpuset.cpus; copies the parent's effective mems first when mems is empty.
  std::vector<std::string> set_cpus(const std::string& path, const std::vector<int>& cpus);
  /// Writes an empty cpuset.cpus: inherit the parent's CPUs again.
  std::vector<std::string> clear_cpus(const std::string& path);
  /// Writes cgroup.freeze: 1 stops every task of the cgroup (and below) until 0.
  std::vector<std::string> set_frozen(const std::string& path, bool frozen);
  /// Moves one process into the cgroup.
  std::vector<std::string> move(const std::string& path, pid_t pid);
  /// rmdir; the cgroup must be empty (and have no children).
  std::vector<std::string> remove(const std::string& path);
  /// Processes in the cgroup (cgroup.procs).
  std::vector<pid_t> procs(const std::string& path) const;

 private:
  std::string root_;
};

/// Writes text to a file (one write call). Empty: success, else "path: strerror".
std::string write_file(const std::string& path, const std::string& text);

}  // namespace ktstr::agent
