#include "apps/cli/nested/nested_host.hpp"

#include <cstdlib>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "apps/cli/process/child_process.hpp"
#include "apps/cli/kernel/kernel_cache.hpp"
#include "apps/cli/nested/nested_host_image.hpp"
#include "apps/cli/nested/outer_console_watch.hpp"
#include "apps/cli/nested/qemu_emulator.hpp"
#include "apps/protocol/nested_job.hpp"

extern char** environ;

namespace ktstr::cli {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

/// The nested host's console has been silent for six of nested-init's "alive" beats:
/// the emulated machine is wedged (its CPUs stuck with interrupts off).
constexpr unsigned kSilentWedgeS = 6 * nested::kAliveIntervalS;

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

// A private directory for the run; removed with everything in it at the end.
struct RunDir {
  fs::path path;
  RunDir() {
    std::string tmpl = (fs::temp_directory_path() / "ktstr-nested-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error(errno_text("mkdtemp " + tmpl));
    path = tmpl;
  }
  ~RunDir() { std::error_code ec; fs::remove_all(path, ec); }
};

struct Fd {
  int fd = -1;
  explicit Fd(int f = -1) : fd(f) {}
  Fd(Fd&& o) noexcept : fd(o.fd) { o.fd = -1; }
  ~Fd() { if (fd >= 0) ::close(fd); }
  void reset() { if (fd >= 0) ::close(fd); fd = -1; }
};

// Kills and reaps QEMU when we leave early (an exception): it must not outlive the run.
struct ChildGuard {
  pid_t pid = -1;
  ~ChildGuard() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

// Our default console log goes away unless the run failed (then it is the evidence).
struct ConsoleLog {
  fs::path path;
  bool remove = false;
  ~ConsoleLog() {
    std::error_code ec;
    if (remove) fs::remove(path, ec);
  }
};

// While QEMU runs, SIGINT/SIGTERM/SIGHUP are read from a signalfd instead of killing us,
// so an interrupted run still kills QEMU and removes its files.
struct StopSignals {
  sigset_t set {}, old {};
  Fd fd;
  StopSignals() {
    ::sigemptyset(&set);
    for (int s : {SIGINT, SIGTERM, SIGHUP}) ::sigaddset(&set, s);
    ::pthread_sigmask(SIG_BLOCK, &set, &old);
    fd.fd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  }
  ~StopSignals() {
    fd.reset();
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }
  int received() {
    signalfd_siginfo info {};
    return fd.fd >= 0 && ::read(fd.fd, &info, sizeof info) == sizeof info ? static_cast<int>(info.ssi_signo) : 0;
  }
};

// QEMU separates suboptions with ',' and escapes a literal comma as ",,".
std::string qemu_escape(const std::string& s) {
  std::string out;
  for (char c : s) out += c == ',' ? std::string(",,") : std::string(1, c);
  return out;
}

struct Setup {
  QemuEmulator qemu;
  fs::path kernel;
  std::vector<fs::path> modules;
};

std::optional<std::string> find_setup(const NestedHostOptions& o, Setup& setup) {
  auto qemu = find_qemu(o.environment);
  if (!qemu)
    return "no QEMU: $KTSTR_QEMU is not executable, or none in the cache or PATH (scripts/setup.sh installs one)";
  setup.qemu = *qemu;
  auto kernel = o.kernel ? o.kernel : cached_kernel(o.environment.cache_dir, "default");
  if (!kernel)
    return "no outer kernel cached under " + (o.environment.cache_dir / "kernels/default").string() +
           " (run scripts/setup.sh)";
  std::error_code ec;
  if (!fs::is_regular_file(*kernel, ec)) return "outer kernel " + kernel->string() + " does not exist";
  auto mods = modules_dir_for(*kernel);
  if (!mods) return "no module tree lib/modules/<release>/kernel next to " + kernel->string();
  if (!fs::is_regular_file(KTSTR_NESTED_INIT_PATH, ec))
    return std::string("ktstr-nested-init is not built (expected ") + KTSTR_NESTED_INIT_PATH + ")";
  try {
    setup.modules = outer_modules(*mods);
  } catch (const std::exception& e) {
    return std::string(e.what());
  }
  setup.kernel = *kernel;
  return std::nullopt;
}

// The job's environment: ours (so PATH and the project's variables carry over), TMPDIR on
// the guest's tmpfs, a marker for tests that need to know, then the caller's overrides.
std::vector<std::string> job_environment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  auto set = [&](const std::string& entry) {
    const std::string key = entry.substr(0, entry.find('=') + 1);
    std::erase_if(env, [&](const std::string& e) { return e.rfind(key, 0) == 0; });
    env.push_back(entry);
  };
  // SAFETY: environ is a NULL-terminated array of C strings owned by the C library.
  for (char** e = environ; e && *e; ++e)
    if (std::strchr(*e, '=')) set(*e);
  set("TMPDIR=/tmp");
  set(std::string(nested::nested_host_env) + "=1");
  for (const auto& e : extra) set(e);
  return env;
}

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out.flush()) throw std::runtime_error("cannot write " + path.string());
}

// Reads at most max bytes of a file the guest may have written (no symlinks followed).
std::optional<std::string> read_untrusted(const fs::path& path, std::size_t max) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  struct stat st {};
  if (fd.fd < 0 || ::fstat(fd.fd, &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  std::string out(max + 1, '\0');
  std::size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::read(fd.fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return out;
}

// The last lines of a log, made printable (the outer console is guest output).
std::vector<std::string> tail_lines(const fs::path& path, std::size_t count) {
  std::ifstream in(path, std::ios::binary);
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size <= 0) return {};
  const std::streamoff start = size > 16384 ? size - 16384 : 0;
  in.seekg(start);
  std::string text(static_cast<std::size_t>(size - start), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = protocol::printable(std::string_view(text).substr(pos, end - pos), 300);
    while (!line.empty() && (line.back() == '?' || line.back() == ' ')) line.pop_back();  // '\r'
    if (!line.empty()) lines.push_back(std::move(line));
    pos = end + 1;
  }
  if (lines.size() > count) lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(count));
  return lines;
}

// QEMU's own complaint, if it printed one (its TCG feature warnings are harmless).
std::string qemu_error(const fs::path& qemu_log) {
  for (const auto& line : tail_lines(qemu_log, 50))
    if (line.find("TCG doesn't support requested feature") == std::string::npos) return line;
  return {};
}

void write_all(int fd, const char* data, std::size_t size, bool& broken) {
  while (size && !broken) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) { broken = true; return; }  // e.g. our reader went away: keep draining the guest
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

struct Streams {
  Fd out, err;  // read ends of the pipes QEMU's ttyS1 / ttyS2 write into
  bool out_broken = false, err_broken = false;

  // Copies what is available to our stdout / stderr; false once both are at end of file.
  bool pump(int timeout_ms, const Fd& pidfd, bool& qemu_exited, StopSignals& stop, int& signal) {
    pollfd p[4] = {{out.fd, POLLIN, 0}, {err.fd, POLLIN, 0}, {pidfd.fd, POLLIN, 0}, {stop.fd.fd, POLLIN, 0}};
    if (::poll(p, 4, timeout_ms) < 0 && errno != EINTR) throw std::runtime_error(errno_text("poll"));
    if (p[3].revents & POLLIN) signal = stop.received();
    char buf[65536];
    Fd* src[2] = {&out, &err};
    for (int i = 0; i < 2; ++i) {
      if (src[i]->fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::read(src[i]->fd, buf, sizeof buf);
      if (n > 0) write_all(i ? STDERR_FILENO : STDOUT_FILENO, buf, static_cast<std::size_t>(n), i ? err_broken : out_broken);
      else if (n == 0 || errno != EINTR) src[i]->reset();  // poll ignores fd -1
    }
    if (p[2].revents & POLLIN) qemu_exited = true;
    return out.fd >= 0 || err.fd >= 0;
  }
};

// "QEMU 10.0.2 (<path>, from the cache)", for the boot line.
std::string describe_emulator(const QemuEmulator& qemu, const std::optional<QemuVersion>& version) {
  return "QEMU " + (version ? to_string(*version) : std::string("of unknown version")) + " (" +
         qemu.binary.string() + ", from " + qemu.origin + ")";
}

// An absolute, lexically normal directory path without a trailing '/'; relative to base.
fs::path normal_dir(const fs::path& path, const fs::path& base) {
  fs::path p = (path.is_absolute() ? path : base / path).lexically_normal();
  if (!p.has_filename() && p.has_relative_path()) p = p.parent_path();
  return p;
}

bool inside(const fs::path& path, const fs::path& dir) {
  const std::string p = path.string(), d = dir.string();
  return p == d || (p.size() > d.size() && p.compare(0, d.size(), d) == 0 && (d == "/" || p[d.size()] == '/'));
}

// Whether a share already shows the host directory `host` at `at` in the nested host.
bool shown(const std::vector<PlannedShare>& shares, const fs::path& at, const fs::path& host) {
  for (const PlannedShare& s : shares) {
    const fs::path mount = s.share.path;
    if (inside(at, mount) && normal_dir(at.lexically_relative(mount), s.host) == host) return true;
  }
  return false;
}

}  // namespace

std::optional<std::string> plan_shares(const NestedHostOptions& options, const fs::path& cwd,
                                       std::vector<PlannedShare>& shares) {
  // A directory is shared where it really is (symlinks resolved) when that place is
  // hidden, or always when it is writable. When the path as given is hidden too but
  // differs (a symlink on the way), it also gets an alias there, unless another share
  // already leads to it.
  struct Wanted {
    fs::path at, host;
    bool read_only;
    bool operator<(const Wanted& o) const { return at < o.at; }
  };
  std::vector<Wanted> primary, alias;
  auto want = [&](const fs::path& dir, bool read_only) -> std::optional<std::string> {
    const fs::path given = normal_dir(dir, cwd);
    std::error_code ec;
    const fs::path real = fs::canonical(given, ec);
    if (ec || !fs::is_directory(real, ec)) {
      if (read_only) return std::nullopt;  // not there: the command fails as it would here
      return "writable directory " + dir.string() + " does not exist";
    }
    if (!read_only && real == "/") return std::string("the root directory cannot be shared writable");
    if (!read_only || nested::hidden_in_nested_host(real.string())) primary.push_back({real, real, read_only});
    if (given != real && nested::hidden_in_nested_host(given.string())) alias.push_back({given, real, read_only});
    return std::nullopt;
  };
  for (const fs::path& dir : options.writable)
    if (auto error = want(dir, false)) return error;
  std::vector<fs::path> readable = options.readable;
  readable.push_back(cwd);
  for (const fs::path& dir : readable) (void)want(dir, true);

  std::vector<PlannedShare> planned;
  std::size_t rw = 0, ro = 0;
  auto add = [&](const Wanted& w) {
    const std::string tag = w.read_only ? "ktstr_ro" + std::to_string(ro++) : "ktstr_rw" + std::to_string(rw++);
    planned.push_back({{tag, w.at.string(), w.read_only}, w.host});
  };
  // Writable first, then read-only ones parents first: one inside a share already shown
  // needs none of its own (nested-init mounts them parents first as well).
  std::stable_sort(primary.begin(), primary.end(), [](const Wanted& a, const Wanted& b) {
    return a.read_only != b.read_only ? !a.read_only : a.at < b.at;
  });
  for (const Wanted& w : primary) {
    const bool same_place = std::any_of(planned.begin(), planned.end(), [&](const PlannedShare& s) { return s.share.path == w.at.string(); });
    if (w.read_only ? !shown(planned, w.at, w.host) : !same_place) add(w);
  }
  // An alias inside another share is reached through the symlink that share shows, which
  // leads to a primary share (and a mount point there would resolve that symlink outside
  // the job's root).
  std::sort(alias.begin(), alias.end());
  for (const Wanted& w : alias)
    if (std::none_of(planned.begin(), planned.end(), [&](const PlannedShare& s) { return inside(w.at, s.share.path); }))
      add(w);
  shares = std::move(planned);
  return std::nullopt;
}

std::optional<std::string> nested_host_unavailable(const NestedHostOptions& options) {
  Setup setup;
  return find_setup(options, setup);
}

NestedHostResult nested_host_exec(const NestedHostOptions& options) {
  NestedHostResult result;
  Setup setup;
  if (auto why = find_setup(options, setup)) return result.failure = *why, result;
  if (options.command.empty()) return result.failure = "no command to run", result;

  nested::Job job;
  const fs::path cwd = normal_dir(options.cwd.empty() ? fs::current_path() : options.cwd, fs::current_path());
  job.cwd = cwd.string();
  job.argv = options.command;
  job.env = job_environment(options.env);
  // The program, when named by its path, is read whatever the command does.
  NestedHostOptions wanted = options;
  if (options.command[0].find('/') != std::string::npos)
    wanted.readable.push_back(normal_dir(options.command[0], cwd).parent_path());
  std::vector<PlannedShare> shares;
  if (auto error = plan_shares(wanted, cwd, shares)) return result.failure = *error, result;
  for (const PlannedShare& s : shares) job.shares.push_back(s.share);

  RunDir run;
  const fs::path share = run.path / "share";
  fs::create_directory(share);
  write_file(share / nested::job_file, nested::encode_job(job));
  const fs::path initrd = run.path / "initrd.cpio";
  write_outer_initramfs(initrd, KTSTR_NESTED_INIT_PATH, setup.modules);

  ConsoleLog console{options.console_log.value_or(fs::path())};
  if (!options.console_log) {
    std::string tmpl = (fs::temp_directory_path() / "ktstr-nested-console-XXXXXX.log").string();
    int fd = ::mkstemps(tmpl.data(), 4);
    if (fd < 0) throw std::runtime_error(errno_text("mkstemps " + tmpl));
    ::close(fd);
    console.path = tmpl;
    console.remove = true;
  }
  result.console_log = console.path;

  // KTSTR_NESTED_APPEND: extra outer-kernel arguments, for debugging the nested host itself.
  const std::optional<std::string>& extra = options.environment.nested_append;
  const std::optional<std::filesystem::path>& monitor = options.environment.nested_monitor;
  std::vector<std::string> argv = {
      "qemu-system-x86_64", "-nodefaults", "-no-user-config", "-M", "q35", "-accel", "tcg",
      "-cpu", "EPYC,+svm", "-smp", std::to_string(options.cpus), "-m", std::to_string(options.memory_mib),
      "-no-reboot", "-display", "none", "-kernel", setup.kernel.string(), "-initrd", initrd.string(),
      // No clocksource watchdog (tsc=reliable) and no THP collapsing (khugepaged): both
      // rendezvous or IPI every CPU, and a CPU running guest code with interrupts off
      // under TCG's SVM never answers, which wedged the whole nested host (README).
      // nokaslr: with a randomized outer kernel, 6 of 9 nested hosts wedged under the
      // host-contention scenario (vCPU threads looping in KVM_RUN on the guest's LAPIC
      // timer, soft lockup); with a fixed layout 1 of 7 did (measured, not understood).
      "-append", "console=ttyS0 quiet panic=-1 tsc=reliable transparent_hugepage=never numa_balancing=disable nokaslr "
                 "ktstr.scratch=" + std::string(nested::scratch_tag) +
                     (extra ? " " + *extra : std::string()),
      // COM1: outer kernel console (log file); COM2 / COM3: the job's stdout / stderr.
      "-chardev", "file,id=console,path=" + qemu_escape(result.console_log.string()), "-serial", "chardev:console",
      "-chardev", "file,id=jobout,path=/dev/fd/3", "-serial", "chardev:jobout",
      "-chardev", "file,id=joberr,path=/dev/fd/4", "-serial", "chardev:joberr",
      "-virtfs", "local,path=/,mount_tag=" + std::string(nested::root_tag) + ",security_model=none,readonly=on,multidevs=remap",
      "-virtfs", "local,path=" + qemu_escape(share.string()) + ",mount_tag=" + std::string(nested::scratch_tag) + ",security_model=none,multidevs=remap"};
  // KTSTR_NESTED_MONITOR=PATH: QEMU's monitor on a Unix socket, to inspect a wedged host.
  if (monitor) argv.insert(argv.end(), {"-monitor", "unix:" + qemu_escape(monitor->string()) + ",server=on,wait=off"});
  for (const auto& dir : setup.qemu.data_dirs) argv.insert(argv.end(), {"-L", dir.string()});
  for (const PlannedShare& s : shares)
    argv.insert(argv.end(), {"-virtfs", "local,path=" + qemu_escape(s.host.string()) + ",mount_tag=" + s.share.tag +
                                            ",security_model=none,multidevs=remap" +
                                            (s.share.read_only ? ",readonly=on" : "")});

  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error(errno_text("pipe"));
  Fd out_r(out_pipe[0]), out_w(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) throw std::runtime_error(errno_text("pipe"));
  Fd err_r(err_pipe[0]), err_w(err_pipe[1]);
  Streams streams{std::move(out_r), std::move(err_r)};
  const fs::path qemu_log = run.path / "qemu.log";
  Fd log_fd(::open(qemu_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  Fd null_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (log_fd.fd < 0 || null_fd.fd < 0) throw std::runtime_error(errno_text("open " + qemu_log.string()));

  const auto qemu_said_version = qemu_version_output(setup.qemu.binary);
  const auto version = qemu_said_version ? parse_qemu_version(*qemu_said_version) : std::nullopt;
  StopSignals stop;
  spdlog::info("booting the nested software-KVM host ({} vCPUs, {} MiB, {}, {}); outer console: {}", options.cpus,
               options.memory_mib, setup.kernel.filename().string(), describe_emulator(setup.qemu, version),
               result.console_log.string());
  // Measured: the KVM tests wedged 7.2's nested hosts now and then, not 10's (README).
  if (version && version->major < kReliableQemuMajor)
    spdlog::warn("QEMU {}.x is more reliable as the nested host's emulator than {} (scripts/setup.sh unpacks it "
                 "from bookworm-backports into the cache)", kReliableQemuMajor, to_string(*version));
  const auto deadline = Clock::now() + std::chrono::seconds(options.timeout_s);
  ChildGuard guard;
  const pid_t qemu = spawn_process(setup.qemu.binary, argv,
                                   {{0, null_fd.fd}, {1, log_fd.fd}, {2, log_fd.fd}, {3, out_w.fd}, {4, err_w.fd}});
  guard.pid = qemu;
  out_w.reset();  // QEMU now holds the only write ends: EOF when it exits
  err_w.reset();
  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, qemu, 0)));
  if (pidfd.fd < 0) throw std::runtime_error(errno_text("pidfd_open"));

  OuterConsoleWatch watch(result.console_log);
  bool exited = false;
  while (!exited) {
    for (const auto& line : watch.poll()) spdlog::warn("nested host kernel: {}", line);
    watch.check_silence(Clock::now(), kSilentWedgeS);
    if (watch.broken()) {  // it will not come back: do not wait for the time bound
      ::kill(qemu, SIGKILL);
      result.broken = "the nested host's kernel is " +
                      std::string(watch.broken()->find("Kernel panic") != std::string::npos ? "dead" : "wedged") +
                      ": " + *watch.broken();
      break;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0 || result.interrupted_by) {
      ::kill(qemu, SIGKILL);
      result.timed_out = !result.interrupted_by;
      break;
    }
    streams.pump(static_cast<int>(std::min<long long>(left, 1000)), pidfd, exited, stop, result.interrupted_by);
  }
  int wstatus = 0;
  while (::waitpid(qemu, &wstatus, 0) < 0 && errno == EINTR) {}
  guard.pid = -1;
  int ignored = 0;
  while (streams.pump(0, pidfd, exited, stop, ignored)) {}  // the write ends are closed: this ends

  std::string error;
  const auto status_bytes = read_untrusted(share / nested::status_file, nested::max_status_bytes);
  if (result.broken) {
    result.failure = *result.broken;
  } else if (result.interrupted_by) {
    result.failure = std::string("interrupted by signal ") + ::strsignal(result.interrupted_by);
  } else if (result.timed_out) {
    result.failure = "the command did not finish within " + std::to_string(options.timeout_s) + " s";
  } else if (!status_bytes) {
    std::string qemu_said = qemu_error(qemu_log);
    result.failure = "the outer guest stopped before the command reported its exit status";
    if (WIFSIGNALED(wstatus))
      result.failure += " (QEMU killed by signal " + std::to_string(WTERMSIG(wstatus)) + ")";
    else if (WEXITSTATUS(wstatus) != 0)
      result.failure += " (QEMU exited with " + std::to_string(WEXITSTATUS(wstatus)) + ")";
    else
      result.failure += " (the guest reset or powered off, or QEMU was asked to quit)";
    if (!qemu_said.empty()) result.failure += "; QEMU said: " + qemu_said;
  } else if (auto st = nested::decode_status(*status_bytes, error); !st) {
    result.failure = "the outer guest reported an invalid status: " + error;
  } else if (st->kind == nested::Status::Kind::error) {
    result.failure = "the nested host failed: " + st->message;
  } else if (st->kind == nested::Status::Kind::refused) {
    result.refused = st->message;
  } else {
    result.exit_status = st->kind == nested::Status::Kind::exited ? st->code : 128 + st->code;
  }

  if (!result.failure.empty() && !result.interrupted_by) {
    spdlog::error("{}; last lines of the outer console ({}):", result.failure, result.console_log.string());
    const auto lines = tail_lines(result.console_log, 20);
    for (const auto& line : lines) spdlog::error("  | {}", line);
    if (lines.empty()) spdlog::error("  | (empty)");
  }
  if (!result.failure.empty()) console.remove = false;
  return result;
}

}  // namespace ktstr::cli
