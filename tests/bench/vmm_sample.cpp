#include "vmm_sample.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

#include "apps/cli/process/child_process.hpp"
#include "boot_watch.hpp"

namespace ktstr::bench {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// How often the serial files are looked at: small against any boot time, cheap enough
// not to steal a core from the VMM being measured.
constexpr auto kPollInterval = std::chrono::milliseconds(5);
// Ours powers off by itself right after its report; give it this long before a kill.
constexpr auto kOwnExitGrace = std::chrono::seconds(30);

void sleep_for(std::chrono::nanoseconds d) {
  timespec left{static_cast<time_t>(d.count() / 1000000000), static_cast<long>(d.count() % 1000000000)};
  while (::nanosleep(&left, &left) != 0 && errno == EINTR) {
  }
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

// The last non-empty line of the VMM's own output, for a failure message. Bounded, and
// reduced to printable ASCII (the output can echo guest bytes).
std::string last_output_line(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  char buf[1024];
  off_t size = ::lseek(fd, 0, SEEK_END);
  off_t from = size > static_cast<off_t>(sizeof buf) ? size - static_cast<off_t>(sizeof buf) : 0;
  ssize_t n = ::pread(fd, buf, sizeof buf, from);
  ::close(fd);
  if (n <= 0) return {};
  std::string text(buf, static_cast<std::size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  text = text.substr(text.find_last_of('\n') == std::string::npos ? 0 : text.find_last_of('\n') + 1);
  for (char& c : text)
    if (c < 0x20 || c > 0x7e) c = '?';
  return text;
}

std::vector<std::string> ours_argv(const BenchConfig& c, const fs::path& dir) {
  // Default topology 1,1,2,1 and 512 MiB: the same 2 vCPUs and RAM QEMU gets.
  return {c.cli.string(), "run",       "--host=kvm", "--kernel", c.kernel.string(),
          "--out",        dir.string(), "--timeout",  std::to_string(c.timeout_s)};
}

// Waits for pid without blocking forever; true when it was reaped.
bool reap_within(pid_t pid, Clock::duration bound, int& status) {
  const auto until = Clock::now() + bound;
  while (true) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR)) return true;
    if (Clock::now() >= until) return false;
    sleep_for(kPollInterval);
  }
}

void kill_and_reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

std::string_view vmm_name(Vmm vmm) {
  switch (vmm) {
    case Vmm::ours: return "ktstr-actors";
    case Vmm::microvm: return "qemu-microvm";
    case Vmm::q35: return "qemu-q35";
  }
  return "?";
}

std::vector<std::string> qemu_argv(const BenchConfig& c, Vmm vmm, const fs::path& dir) {
  // The same guest as ours: 2 vCPUs, 512 MiB, same kernel, initramfs and command line
  // (kBaseCmdline already has console=ttyS0 and quiet; neither machine needs more).
  std::vector<std::string> argv{
      c.qemu.string(),
      "-M", vmm == Vmm::microvm ? "microvm,isa-serial=on" : "q35",
      "-accel", c.accel,
      // -cpu host needs KVM; the TCG check uses the emulator's richest model instead.
      "-cpu", c.accel == "kvm" ? "host" : "max",
      "-m", "512", "-smp", "2",
      "-nodefaults", "-no-user-config", "-nographic",
      // -nographic would put the monitor on our stdin/stdout; nothing reads it here.
      "-monitor", "none",
      // The agent powers off (or resets) after its report: QEMU must exit, not reboot.
      "-no-reboot",
      "-kernel", c.kernel.string(), "-initrd", c.initramfs.string(), "-append", c.cmdline,
      // File chardevs write each guest byte through at once (no buffering in QEMU).
      "-chardev", "file,id=com1,path=" + (dir / "com1.log").string(),
      "-chardev", "file,id=com2,path=" + (dir / "com2.log").string(),
      "-serial", "chardev:com1"};
  if (vmm == Vmm::microvm) {
    // microvm instantiates only one ISA UART however many -serial are given; the
    // second is an explicit isa-serial at COM2's legacy port and IRQ.
    for (const char* a : {"-device", "isa-serial,chardev=com2,iobase=0x2f8,irq=3"}) argv.emplace_back(a);
  } else {
    for (const char* a : {"-serial", "chardev:com2"}) argv.emplace_back(a);
  }
  return argv;
}

Sample measure_boot(const BenchConfig& c, Vmm vmm, int run, const fs::path& dir) {
  Sample s;
  s.vmm = vmm;
  s.run = run;
  s.dir = dir;
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) {
    s.error = "cannot create " + dir.string() + ": " + ec.message();
    return s;
  }
  const bool is_ours = vmm == Vmm::ours;
  BootWatch com2(dir / (is_ours ? "agent.log" : "com2.log"), /*console=*/false);
  // The agent falls back to /dev/console (COM1) when its COM2 UART does not work.
  BootWatch com1(dir / (is_ours ? "console.log" : "com1.log"), /*console=*/true);
  const auto argv = is_ours ? ours_argv(c, dir) : qemu_argv(c, vmm, dir);
  const fs::path out_path = dir / "vmm.out";

  int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out < 0 || null < 0) {
    if (out >= 0) ::close(out);
    if (null >= 0) ::close(null);
    s.error = "cannot open " + out_path.string() + " or /dev/null";
    return s;
  }
  const auto start = Clock::now();
  pid_t pid = -1;
  try {
    pid = cli::spawn_process(argv[0], argv, {{0, null}, {1, out}, {2, out}});
  } catch (const std::exception& e) {
    s.error = e.what();
  }
  ::close(out);
  ::close(null);
  if (pid < 0) return s;

  const auto deadline = start + std::chrono::seconds(c.timeout_s);
  std::optional<int> exited;  // wait status, once the VMM is gone
  while (true) {
    std::optional<BootDone> done = com2.poll();
    if (done) s.signal = "com2";
    if (!done && (done = com1.poll())) s.signal = "com1";
    if (done) {
      s.wall_s = std::chrono::duration<double>(Clock::now() - start).count();
      s.guest_uptime_s = done->guest_uptime_s;
      s.ok = true;
      break;
    }
    if (exited) {  // gone, and its files were read once more after that: no boot_done
      s.error = std::string(vmm_name(vmm)) + " ended (" + describe_status(*exited) + ") before boot_done";
      if (auto line = last_output_line(out_path); !line.empty()) s.error += ": " + line;
      return s;
    }
    if (com2.exhausted() || com1.exhausted()) {
      s.error = "the guest wrote too much before boot_done";
      break;
    }
    if (Clock::now() >= deadline) {
      s.error = "no boot_done within " + std::to_string(c.timeout_s) + " s";
      break;
    }
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      exited = status;
      continue;  // one more look at the files: the line may have come just before the exit
    }
    sleep_for(kPollInterval);
  }
  if (exited) return s;
  int status = 0;
  if (is_ours && s.ok) {
    // Ours ends by itself once the agent powered off; its exit code is its verdict.
    if (!reap_within(pid, kOwnExitGrace, status)) {
      kill_and_reap(pid);
      s.note = "did not exit within 30 s of boot_done; killed";
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      s.note = "run ended with " + describe_status(status);
    }
    return s;
  }
  kill_and_reap(pid);  // QEMU's clock already stopped: no need to let it shut down
  return s;
}

}  // namespace ktstr::bench
