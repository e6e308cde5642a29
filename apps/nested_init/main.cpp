// ktstr-nested-init: PID 1 of the nested software-KVM host (the outer QEMU/TCG guest,
// shared/docs/PLATFORM.md §1). It loads kvm-amd and the 9p stack, mounts the host's root
// read-only at /host with the writable shares on top, runs the job chrooted there with
// its stdout/stderr relayed to ttyS1/ttyS2, records the exit status in the scratch share
// and powers off. The host reads the job from, and the status back from, that share.
#include <fcntl.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "apps/protocol/nested_job.hpp"
#include "system.hpp"

extern char** environ;

namespace ktstr::nested {
namespace {

// cache=loose: without it every read and page fault is a round trip to QEMU, and under
// TCG that made a dynamically linked program start 10x slower (python3: 9.5 s vs 0.8 s).
// The host does not change the shared trees while the job runs, and power-off syncs
// first, so the job's writes reach the host.
constexpr const char* p9_options = "trans=virtio,version=9p2000.L,msize=512000,cache=loose";

std::string cmdline_value(std::string_view key) {
  std::string cmdline;
  if (!read_bounded("/proc/cmdline", 16384, cmdline)) die("cannot read /proc/cmdline");
  for (std::size_t i = 0; i < cmdline.size();) {
    std::size_t end = cmdline.find_first_of(" \n", i);
    if (end == std::string::npos) end = cmdline.size();
    std::string_view word(cmdline.data() + i, end - i);
    if (word.size() > key.size() && word.substr(0, key.size()) == key && word[key.size()] == '=')
      return std::string(word.substr(key.size() + 1));
    i = end + 1;
  }
  return {};
}

// The 9p transport appears when 9pnet_virtio probes the virtio-pci devices; allow a
// moment in case probing is still under way.
bool try_mount_9p(const std::string& tag, const std::string& target, unsigned long flags, std::string& error) {
  for (int attempt = 0;; ++attempt) {
    if (::mount(tag.c_str(), target.c_str(), "9p", flags, p9_options) == 0) return true;
    if (errno != ENOENT || attempt == 50) {
      error = "cannot mount 9p share '" + tag + "' on " + target + ": " + std::strerror(errno);
      return false;
    }
    ::usleep(100000);
  }
}

void mount_9p(const std::string& tag, const std::string& target, unsigned long flags) {
  if (std::string error; !try_mount_9p(tag, target, flags, error)) die(error);
}

bool is_dir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

void mount_host_root(const Job& job) {
  make_dirs("/host");
  mount_9p(std::string(root_tag), "/host", MS_RDONLY);
  make_dirs("/dev/pts");
  make_dirs("/dev/shm");
  mount_or_die("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "ptmxmode=666");
  mount_or_die("/dev", "/host/dev", nullptr, MS_BIND | MS_REC, nullptr);
  mount_or_die("proc", "/host/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
  mount_or_die("sysfs", "/host/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
  if (::mount("cgroup2", "/host/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
    say(std::string("warning: no cgroup2 at /sys/fs/cgroup: ") + std::strerror(errno));
  // The shared root is read-only: the usual scratch places get a fresh tmpfs. What the
  // job needs from the host's ones comes as a share (apps/protocol/nested_job.hpp, hidden_dirs).
  for (const HiddenDir& d : hidden_dirs) {
    const std::string target = "/host" + std::string(d.path);
    if (is_dir(target))
      mount_or_die("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, ("mode=" + std::string(d.mode)).c_str());
  }
  // Parents before children, so a share inside another share stays visible (a writable
  // output directory inside a read-only working directory, say). Mount points under the
  // tmpfs places are created there.
  std::vector<Share> shares = job.shares;
  std::sort(shares.begin(), shares.end(), [](const Share& a, const Share& b) { return a.path < b.path; });
  for (const Share& s : shares) {
    make_dirs("/host" + s.path);
    mount_9p(s.tag, "/host" + s.path, s.read_only ? MS_RDONLY : 0);
  }
  // A working directory the host could not share is the job's problem, not the host's.
  struct stat st {};
  if (::stat(("/host" + job.cwd).c_str(), &st) != 0)
    refuse("working directory " + job.cwd + " cannot be entered in the nested host: " + std::strerror(errno));
  if (!S_ISDIR(st.st_mode)) refuse("working directory " + job.cwd + " is not a directory in the nested host");
}

// The job's output goes to a UART: raw mode, so "\n" is not turned into "\r\n".
int open_raw_tty(const char* path) {
  int fd = ::open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) die(std::string("cannot open ") + path + ": " + std::strerror(errno));
  termios t {};
  if (::tcgetattr(fd, &t) != 0) die(std::string("tcgetattr ") + path + ": " + std::strerror(errno));
  ::cfmakeraw(&t);
  t.c_cflag |= CLOCAL;
  ::cfsetspeed(&t, B115200);
  if (::tcsetattr(fd, TCSANOW, &t) != 0) die(std::string("tcsetattr ") + path + ": " + std::strerror(errno));
  return fd;
}

[[noreturn]] void exec_job(const Job& job, int out_fd, int err_fd) {
  ::setsid();
  int null_fd = ::open("/dev/null", O_RDONLY);
  ::dup2(null_fd, STDIN_FILENO);
  ::dup2(out_fd, STDOUT_FILENO);
  ::dup2(err_fd, STDERR_FILENO);
  ::close_range(3, ~0U, 0);
  std::vector<char*> argv, envp;
  // SAFETY: argv/envp point into job's strings, which outlive execvp (or _exit).
  for (const auto& a : job.argv) argv.push_back(const_cast<char*>(a.c_str()));
  for (const auto& e : job.env) envp.push_back(const_cast<char*>(e.c_str()));
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  if (::chroot("/host") != 0 || ::chdir(job.cwd.c_str()) != 0) {
    say("cannot enter " + job.cwd + " in /host: " + std::strerror(errno));
    _exit(126);
  }
  // SAFETY: envp outlives the exec; execvp searches the PATH of environ, so it must be the job's.
  environ = envp.data();
  ::execvp(argv[0], argv.data());
  int err = errno;
  say("cannot run '" + job.argv[0] + "': " + std::strerror(err));
  _exit(err == ENOENT ? 127 : 126);
}

// Copies one chunk from a pipe to its UART; false at end of stream.
bool relay(int from, int to) {
  char buf[65536];
  ssize_t n = ::read(from, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) return false;
  for (ssize_t done = 0; done < n;) {
    ssize_t w = ::write(to, buf + done, static_cast<std::size_t>(n - done));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;  // a broken UART loses output but must not stop the job
    done += w;
  }
  return true;
}

// Runs the job and relays its output until it exits; returns its wait status.
int run_job(const Job& job) {
  const int tty_out = open_raw_tty("/dev/ttyS1");
  const int tty_err = open_raw_tty("/dev/ttyS2");
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) die(std::string("pipe: ") + std::strerror(errno));
  pid_t pid = ::fork();
  if (pid < 0) die(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) exec_job(job, out[1], err[1]);
  ::close(out[1]);
  ::close(err[1]);
  // glibc 2.36's <sys/pidfd.h> lacks C linkage for C++, so use the raw system call.
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) die(std::string("pidfd_open: ") + std::strerror(errno));

  pollfd fds[3] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}, {pidfd, POLLIN, 0}};
  int wstatus = 0;
  bool exited = false;
  std::chrono::steady_clock::time_point drain_until;
  // Orphans may keep the pipes open after the job exits: drain for a bounded time only.
  while (fds[0].fd >= 0 || fds[1].fd >= 0 || !exited) {
    int timeout = -1;
    if (exited) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(drain_until - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      timeout = static_cast<int>(left.count());
    }
    if (::poll(fds, 3, timeout) < 0 && errno != EINTR) die(std::string("poll: ") + std::strerror(errno));
    for (int i = 0; i < 2; ++i)
      if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) && !relay(fds[i].fd, i ? tty_err : tty_out)) {
        ::close(fds[i].fd);
        fds[i].fd = -1;  // poll ignores negative fds
      }
    // PID 1 reaps every orphan too; the job's own status may come out of this loop.
    // (The pidfd only wakes the poll: waitpid(pid) after it could find the job already reaped.)
    int ws = 0;
    for (pid_t reaped; (reaped = ::waitpid(-1, &ws, WNOHANG)) > 0;) {
      if (reaped == pid) {
        wstatus = ws;
        exited = true;
        fds[2].fd = -1;
        drain_until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
      }
    }
  }
  ::tcdrain(tty_out);  // the UART buffers: everything must be out before power-off
  ::tcdrain(tty_err);
  return wstatus;
}

}  // namespace
}  // namespace ktstr::nested

int main() {
  using namespace ktstr::nested;
  mount_or_die("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
  mount_or_die("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
  mount_or_die("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
  say("started");
  // The scratch share is mounted before a KVM failure is reported, so that the host
  // gets the reason in the status file, not only on the console.
  const std::string module_error = load_modules("/modules");
  const std::string tag = cmdline_value("ktstr.scratch");
  if (!valid_tag(tag)) die("no valid ktstr.scratch=<9p tag> on the kernel command line");
  make_dirs("/scratch");
  if (std::string error; !try_mount_9p(tag, "/scratch", MS_NOSUID | MS_NODEV, error))
    die(module_error.empty() ? error : module_error + "; " + error);
  set_status_path("/scratch/" + std::string(status_file));
  if (!module_error.empty()) die(module_error);
  if (::access("/dev/kvm", R_OK | W_OK) != 0)
    die(std::string("modules loaded but /dev/kvm is not usable: ") + std::strerror(errno));
  say("modules loaded, /dev/kvm present");

  std::string bytes, error;
  if (!read_bounded("/scratch/" + std::string(job_file), max_job_bytes, bytes))
    die("cannot read the job file (missing, unreadable or larger than 8 MiB)");
  std::optional<Job> job = decode_job(bytes, error);
  if (!job) die("bad job file: " + error);

  mount_host_root(*job);
  loopback_up();
  say("running " + ktstr::protocol::printable(job->argv[0], 400));
  // A line every 10 s while the job runs: the host tells a slow nested host from a
  // wedged one by this console going silent (nested_host.cpp). Every second the
  // console and the job's two ports get their transmitters restarted (kick_uart).
  std::thread([] {
    const int uarts[] = {STDERR_FILENO, ::open("/dev/ttyS1", O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC),
                         ::open("/dev/ttyS2", O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)};
    for (unsigned tick = 1;; ++tick) {
      ::sleep(1);
      for (int fd : uarts)
        if (fd >= 0) kick_uart(fd);
      if (tick % kAliveIntervalS == 0) say("alive");
    }
  }).detach();
  const int ws = run_job(*job);
  Status st;
  if (WIFEXITED(ws)) st = {Status::Kind::exited, WEXITSTATUS(ws), {}};
  else st = {Status::Kind::signalled, WTERMSIG(ws), {}};
  const std::string line = encode_status(st);
  if (!write_status(line)) say("error: cannot write the status file");
  say("command finished: " + line.substr(0, line.size() - 1));
  power_off();
}
