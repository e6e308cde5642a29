#include "cgroups.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "kvm/cpu_list.hpp"
#include "sysfs_text.hpp"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

namespace ktstr::agent {

std::string write_file(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return path + ": open: " + std::strerror(errno);
  ssize_t n = ::write(fd, text.data(), text.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size()))
    return path + ": write \"" + text + "\": " + (n < 0 ? std::strerror(err) : "short write");
  return {};
}

std::string format_cpu_list(const std::vector<int>& cpus) { return kvm::format_sorted_cpu_list(cpus); }

std::optional<std::string> Cgroups::check_root() const {
  struct statfs fs {};
  if (::statfs(root_.c_str(), &fs) != 0) return root_ + ": " + std::strerror(errno);
  if (fs.f_type != CGROUP2_SUPER_MAGIC) return root_ + " is not a cgroup2 mount";
  if (::access((root_ + "/cgroup.procs").c_str(), W_OK) != 0) return root_ + "/cgroup.procs not writable";
  return std::nullopt;
}

std::string Cgroups::dir(const std::string& path) const { return path.empty() ? root_ : root_ + "/" + path; }

std::vector<std::string> Cgroups::create(const std::string& path, const std::optional<std::vector<int>>& cpus) {
  std::vector<std::string> errors;
  // Walk root -> path: enable the controllers in each parent, then create the child.
  std::string current;
  size_t start = 0;
  while (start <= path.size() && !path.empty()) {
    auto end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    auto control = dir(current) + "/cgroup.subtree_control";
    auto enabled = read_text(control).value_or("");
    for (const char* c : {"cpuset", "cpu"}) {
      std::istringstream words(enabled);
      bool on = false;
      for (std::string w; words >> w;) on = on || w == c;
      if (!on)
        if (auto e = write_file(control, std::string("+") + c); !e.empty()) errors.push_back(e);
    }
    current = path.substr(0, end);
    if (::mkdir(dir(current).c_str(), 0755) != 0 && errno != EEXIST)
      errors.push_back(dir(current) + ": mkdir: " + std::strerror(errno));
    start = end + 1;
  }
  if (cpus) {
    auto more = set_cpus(path, *cpus);
    errors.insert(errors.end(), more.begin(), more.end());
  }
  return errors;
}

std::vector<std::string> Cgroups::set_cpus(const std::string& path, const std::vector<int>& cpus) {
  std::vector<std::string> errors;
  auto d = dir(path);
  // A cpuset with no mems cannot hold tasks on older kernels; give it the parent's.
  if (read_text(d + "/cpuset.mems").value_or("").empty()) {
    auto parent = path.rfind('/') == std::string::npos ? std::string() : path.substr(0, path.rfind('/'));
    auto mems = read_text(dir(parent) + "/cpuset.mems.effective").value_or("");
    if (!mems.empty())
      if (auto e = write_file(d + "/cpuset.mems", mems); !e.empty()) errors.push_back(e);
  }
  if (auto e = write_file(d + "/cpuset.cpus", format_cpu_list(cpus)); !e.empty()) errors.push_back(e);
  return errors;
}

std::vector<std::string> Cgroups::set_frozen(const std::string& path, bool frozen) {
  auto e = write_file(dir(path) + "/cgroup.freeze", frozen ? "1" : "0");
  if (e.empty()) return {};
  return {e};
}

std::vector<std::string> Cgroups::clear_cpus(const std::string& path) {
  // An empty write needs a newline: write(fd, "", 0) does not reach the kernel handler.
  auto e = write_file(dir(path) + "/cpuset.cpus", "\n");
  if (e.empty()) return {};
  // Linux 6.1 refuses an empty cpuset.cpus on a cgroup holding tasks (ENOSPC): the
  // parent's effective CPUs are the same "no restriction of its own".
  auto parent = path.rfind('/') == std::string::npos ? std::string() : path.substr(0, path.rfind('/'));
  auto cpus = read_text(dir(parent) + "/cpuset.cpus.effective").value_or("");
  if (cpus.empty()) return {e};
  if (auto again = write_file(dir(path) + "/cpuset.cpus", cpus); !again.empty()) return {e, again};
  return {};
}

std::vector<std::string> Cgroups::move(const std::string& path, pid_t pid) {
  if (auto e = write_file(dir(path) + "/cgroup.procs", std::to_string(pid)); !e.empty()) return {e};
  return {};
}

std::vector<std::string> Cgroups::remove(const std::string& path) {
  // A just-exited task may linger in the cgroup for a moment; retry briefly on EBUSY.
  for (int attempt = 0;; ++attempt) {
    if (::rmdir(dir(path).c_str()) == 0 || errno == ENOENT) return {};
    if (errno != EBUSY || attempt >= 50) return {dir(path) + ": rmdir: " + std::strerror(errno)};
    ::usleep(10000);
  }
}

std::vector<pid_t> Cgroups::procs(const std::string& path) const {
  std::vector<pid_t> out;
  std::istringstream in(read_text(dir(path) + "/cgroup.procs").value_or(""));
  for (long p; in >> p;) out.push_back(static_cast<pid_t>(p));
  return out;
}

}  // namespace ktstr::agent
