#include "kvm/host_probe.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/kvm.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "kvm/error.hpp"
#include "kvm/hex.hpp"
#include "kvm/kick.hpp"
#include "kvm/long_mode.hpp"
#include "kvm/system.hpp"
#include "kvm/uapi.hpp"

namespace ktstr::kvm {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

// The probe guest's 64 KiB of RAM at guest-physical 0.
constexpr uint64_t kMemSize = 0x10000;
constexpr uint64_t kGdt = 0x500;
constexpr uint64_t kPml4 = 0x1000;
constexpr uint64_t kPdpt = 0x2000;
constexpr uint64_t kPd = 0x3000;
constexpr uint64_t kCode = 0x4000;

constexpr uint16_t kReportPort = 0x80;
constexpr uint32_t kLoopStart = 0x4b545301;  // "\1STK": the loop begins
constexpr uint32_t kLoopEnd = 0x4b545302;    // "\2STK": the loop is done

using namespace long_mode;

void put_le32(std::vector<uint8_t>& code, uint32_t v) {
  for (int i = 0; i < 4; ++i) code.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// mov eax, kLoopStart; out 0x80, eax; mov ecx, N; 1: dec rcx; jnz 1b;
// mov eax, kLoopEnd; out 0x80, eax; hlt
std::vector<uint8_t> probe_code(uint32_t iterations) {
  std::vector<uint8_t> code;
  code.push_back(0xb8), put_le32(code, kLoopStart);
  code.insert(code.end(), {0xe7, kReportPort});
  code.push_back(0xb9), put_le32(code, iterations);
  code.insert(code.end(), {0x48, 0xff, 0xc9});  // dec rcx
  code.insert(code.end(), {0x75, 0xfb});        // jnz back to the dec (-5)
  code.push_back(0xb8), put_le32(code, kLoopEnd);
  code.insert(code.end(), {0xe7, kReportPort});
  code.push_back(0xf4);  // hlt
  return code;
}

void put_le64(uint8_t* mem, uint64_t at, uint64_t v) { std::memcpy(mem + at, &v, sizeof v); }

std::string errno_step(const std::string& what) { return what + ": " + std::strerror(errno); }

bool module_loaded(const char* name) { return ::access((std::string("/sys/module/") + name).c_str(), F_OK) == 0; }

// What the probe thread and its caller share; held by shared_ptr so that a probe thread
// stuck in KVM_RUN (a device that ignores signals) can be left behind safely.
struct ProbeRun {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;          // [mu] obs is final and the thread no longer touches it
  std::atomic<bool> stop{false};
  VcpuKick kick;
  ProbeObservation obs;       // the probe thread's until done
};

// Runs the probe on the calling thread: every vCPU ioctl from the thread that made it.
class ProbeGuest {
 public:
  explicit ProbeGuest(ProbeRun& run) : run_(run), obs_(run.obs) {}
  ~ProbeGuest() {
    if (kvm_run_) run_.kick.detach();
    if (kvm_run_) ::munmap(kvm_run_, run_size_);
    if (mem_) ::munmap(mem_, kMemSize);
  }

  void run() {
    if (!open_device()) return;
    if (!check_capabilities()) return;
    if (!create_guest()) return;
    for (int i = 0; i < kProbeLoopRuns; ++i) {
      if (!run_loop_once()) return;
      if (!run_again(obs_.loop_runs)) return;
      kvm_regs regs{};
      if (::ioctl(vcpu_.get(), KVM_GET_REGS, &regs) < 0) return fail(errno_step("KVM_GET_REGS"));
      regs.rip = kCode;
      if (::ioctl(vcpu_.get(), KVM_SET_REGS, &regs) < 0) return fail(errno_step("KVM_SET_REGS"));
    }
  }

  /// Another loop run is worth making only when the best so far is in the ambiguous
  /// band [threshold, 2 x threshold): below it the host is clearly real KVM, above it
  /// clearly emulated (a second 1.7 s emulated run would only cost time).
  static bool run_again(const std::vector<nanoseconds>& runs) {
    nanoseconds best = runs.front();
    for (auto r : runs) best = std::min(best, r);
    return best >= kEmulatedLoopThreshold && best < 2 * kEmulatedLoopThreshold;
  }

 private:
  void fail(std::string step) {
    if (!obs_.failed_step) obs_.failed_step = std::move(step);
  }

  bool open_device() {
    kvm_.reset(::open(obs_.device.c_str(), O_RDWR | O_CLOEXEC));
    if (!kvm_) {
      obs_.device_exists = errno != ENOENT;
      if (obs_.device_exists) fail(errno_step("open " + obs_.device));
      return false;
    }
    obs_.device_exists = true;
    return true;
  }

  bool check_capabilities() {
    const int fd = kvm_.get();
    auto& caps = obs_.caps;
    caps.api_version = ::ioctl(fd, KVM_GET_API_VERSION, 0);
    if (caps.api_version < 0) {
      fail(errno_step("KVM_GET_API_VERSION"));
      return false;
    }
    if (caps.api_version != Kvm::kApiVersion) {
      fail("KVM_GET_API_VERSION: " + std::to_string(caps.api_version) + ", need " + std::to_string(Kvm::kApiVersion));
      return false;
    }
    auto has = [&](long cap) { return ::ioctl(fd, KVM_CHECK_EXTENSION, cap); };
    caps.immediate_exit = has(KVM_CAP_IMMEDIATE_EXIT) > 0;
    caps.set_guest_debug = has(KVM_CAP_SET_GUEST_DEBUG) > 0;
    caps.kvmclock_ctrl = has(KVM_CAP_KVMCLOCK_CTRL) > 0;
    caps.nr_vcpus = std::max(0, has(KVM_CAP_NR_VCPUS));
    caps.max_vcpus = std::max(0, has(KVM_CAP_MAX_VCPUS));
    caps.missing = missing_required_capabilities(fd);
    if (!caps.missing.empty()) {
      fail("lacks " + caps.missing.front() + (caps.missing.size() > 1 ? " (and " + std::to_string(caps.missing.size() - 1) + " more)" : ""));
      return false;
    }
    return true;
  }

  bool create_guest() {
    vm_.reset(::ioctl(kvm_.get(), KVM_CREATE_VM, 0));
    if (!vm_) return fail(errno_step("KVM_CREATE_VM")), false;
    void* mem = ::mmap(nullptr, kMemSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) return fail(errno_step("mmap of the probe guest's memory")), false;
    mem_ = static_cast<uint8_t*>(mem);
    write_image();
    kvm_userspace_memory_region region{};
    region.slot = 0;
    region.guest_phys_addr = 0;
    region.memory_size = kMemSize;
    region.userspace_addr = reinterpret_cast<uint64_t>(mem_);
    if (::ioctl(vm_.get(), KVM_SET_USER_MEMORY_REGION, &region) < 0)
      return fail(errno_step("KVM_SET_USER_MEMORY_REGION")), false;

    vcpu_.reset(::ioctl(vm_.get(), KVM_CREATE_VCPU, 0));
    if (!vcpu_) return fail(errno_step("KVM_CREATE_VCPU")), false;
    const int size = ::ioctl(kvm_.get(), KVM_GET_VCPU_MMAP_SIZE, 0);
    if (size < static_cast<int>(sizeof(kvm_run))) return fail(errno_step("KVM_GET_VCPU_MMAP_SIZE")), false;
    void* page = ::mmap(nullptr, static_cast<size_t>(size), PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_.get(), 0);
    if (page == MAP_FAILED) return fail(errno_step("mmap of kvm_run")), false;
    // SAFETY: KVM maps a struct kvm_run at offset 0 of the vCPU fd; size >= sizeof(kvm_run).
    kvm_run_ = static_cast<kvm_run*>(page);
    run_size_ = static_cast<size_t>(size);
    run_.kick.attach(kvm_run_);  // from here on the deadline's kick reaches KVM_RUN

    try {
      const auto cpuid = supported_cpuid(kvm_.get());  // long mode must be visible to the guest
      FlexBuffer<CpuidHeader, kvm_cpuid_entry2> buf(cpuid.size());
      buf.set_header({static_cast<uint32_t>(cpuid.size()), 0});
      buf.set_entries(cpuid);
      if (::ioctl(vcpu_.get(), kIoctlSetCpuid2, buf.data()) < 0) return fail(errno_step("KVM_SET_CPUID2")), false;
    } catch (const Error& e) {
      return fail(e.what()), false;
    }

    kvm_sregs sregs{};
    if (::ioctl(vcpu_.get(), KVM_GET_SREGS, &sregs) < 0) return fail(errno_step("KVM_GET_SREGS")), false;
    sregs.cs = flat_segment(0x08, 0xb, true);
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = flat_segment(0x10, 0x3, false);
    sregs.gdt.base = kGdt;
    sregs.gdt.limit = 3 * 8 - 1;
    sregs.cr3 = kPml4;
    sregs.cr4 = kCr4Pae;
    sregs.cr0 = kCr0Pe | kCr0Et | kCr0Pg;
    sregs.efer = kEferLme | kEferLma;
    if (::ioctl(vcpu_.get(), KVM_SET_SREGS, &sregs) < 0) return fail(errno_step("KVM_SET_SREGS")), false;
    kvm_regs regs{};
    regs.rip = kCode;
    regs.rflags = 0x2;  // the reserved bit; interrupts off
    if (::ioctl(vcpu_.get(), KVM_SET_REGS, &regs) < 0) return fail(errno_step("KVM_SET_REGS")), false;
    return true;
  }

  // GDT (null, 64-bit code, data), one 2 MiB identity page, the code.
  void write_image() {
    put_le64(mem_, kGdt + 8, kGdtCode64);
    put_le64(mem_, kGdt + 16, kGdtData);
    put_le64(mem_, kPml4, kPdpt | kPtePresentRw);
    put_le64(mem_, kPdpt, kPd | kPtePresentRw);
    put_le64(mem_, kPd, 0 | kPtePresentRw | kPtePageSize);
    const auto code = probe_code(static_cast<uint32_t>(obs_.iterations));
    std::memcpy(mem_ + kCode, code.data(), code.size());
  }

  enum class Exit { report, halt, stopped, failed };

  // One KVM_RUN up to an exit we care about. `expect` names the step for messages.
  Exit enter(const char* expect, uint32_t& value) {
    for (;;) {
      if (run_.stop.load(std::memory_order_acquire)) return Exit::stopped;
      run_.kick.enter_guest();
      const int rc = ::ioctl(vcpu_.get(), KVM_RUN, 0);
      const int err = errno;
      run_.kick.leave_guest();
      if (rc < 0 && err != EINTR && err != EAGAIN) return fail(std::string("KVM_RUN (") + expect + "): " + std::strerror(err)), Exit::failed;
      if (rc < 0 || kvm_run_->exit_reason == KVM_EXIT_INTR) {
        run_.kick.consume();  // a kick: only the deadline kicks, and it set stop first
        continue;
      }
      switch (kvm_run_->exit_reason) {
        case KVM_EXIT_IO: {
          const auto& io = kvm_run_->io;
          if (io.direction != KVM_EXIT_IO_OUT || io.port != kReportPort || io.size != 4 || io.count != 1)
            return fail(std::string("probe guest did unexpected port I/O (") + expect + ")"), Exit::failed;
          // SAFETY: KVM put io.size * io.count bytes at data_offset inside the mapped kvm_run page.
          std::memcpy(&value, reinterpret_cast<const uint8_t*>(kvm_run_) + io.data_offset, sizeof value);
          return Exit::report;
        }
        case KVM_EXIT_HLT: return Exit::halt;
        case KVM_EXIT_FAIL_ENTRY:
          return fail("probe guest failed to enter (" + std::string(expect) + "): hardware reason 0x" +
                      to_hex(kvm_run_->fail_entry.hardware_entry_failure_reason)),
                 Exit::failed;
        case KVM_EXIT_INTERNAL_ERROR:
          return fail("KVM internal error " + std::to_string(kvm_run_->internal.suberror) + " (" + expect + ")"),
                 Exit::failed;
        case KVM_EXIT_SHUTDOWN: return fail(std::string("probe guest triple-faulted (") + expect + ")"), Exit::failed;
        default:
          return fail("probe guest left with exit reason " + std::to_string(kvm_run_->exit_reason) + " (" + expect + ")"),
                 Exit::failed;
      }
    }
  }

  bool expect_report(const char* step, uint32_t mark) {
    uint32_t value = 0;
    const Exit e = enter(step, value);
    if (e == Exit::report && value == mark) return true;
    if (e == Exit::report) fail(std::string("probe guest reported 0x") + to_hex(value) + " (" + step + ")");
    if (e == Exit::halt) fail(std::string("probe guest halted early (") + step + ")");
    if (e == Exit::stopped) {
      if (mark == kLoopEnd) obs_.loop_unfinished = true;
      else fail("probe guest did not reach its loop within " + std::to_string(obs_.deadline.count()) + " ms");
    }
    return false;
  }

  bool run_loop_once() {
    if (!expect_report("loop start", kLoopStart)) return false;
    const auto start = Clock::now();
    if (!expect_report("loop end", kLoopEnd)) return false;
    const nanoseconds took = Clock::now() - start;
    obs_.loop_runs.push_back(took);
    if (!obs_.loop_time || took < *obs_.loop_time) obs_.loop_time = took;
    uint32_t ignored = 0;
    const Exit e = enter("HLT", ignored);
    if (e == Exit::halt) return true;
    if (e == Exit::stopped) fail("probe guest did not reach HLT within " + std::to_string(obs_.deadline.count()) + " ms");
    else if (e == Exit::report) fail("probe guest reported again instead of halting");
    return false;
  }

  ProbeRun& run_;
  ProbeObservation& obs_;
  Fd kvm_, vm_, vcpu_;
  uint8_t* mem_ = nullptr;
  kvm_run* kvm_run_ = nullptr;
  size_t run_size_ = 0;
};

std::string with_thousands(uint64_t v) {
  std::string digits = std::to_string(v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string modules_evidence(const KvmModules& m) {
  if (m.kvm_pvm && !m.kvm_amd && !m.kvm_intel) return "kvm_pvm (no kvm_amd or kvm_intel loaded), ";
  if (m.kvm_pvm) return "kvm_pvm loaded, ";
  return {};
}

}  // namespace

const char* to_string(ProbeVerdict verdict) {
  switch (verdict) {
    case ProbeVerdict::usable: return "usable";
    case ProbeVerdict::emulated: return "emulated";
    case ProbeVerdict::broken: return "broken";
    case ProbeVerdict::absent: return "absent";
  }
  return "broken";
}

std::string format_loop_time(nanoseconds t) {
  const double ms = static_cast<double>(t.count()) / 1e6;
  if (ms >= 10) return with_thousands(static_cast<uint64_t>(ms + 0.5)) + " ms";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f ms", ms);
  return buf;
}

HostProbe judge_probe(const ProbeObservation& o) {
  HostProbe p;
  p.observation = o;
  const std::string loop = with_thousands(o.iterations) + "-iteration probe loop";
  const std::string bound = "hardware KVM takes under " + format_loop_time(kEmulatedLoopThreshold);
  if (!o.device_exists) {
    p.verdict = ProbeVerdict::absent;
    p.reason = "no " + o.device + (o.modules.kvm_pvm ? " (kvm_pvm is loaded but registered no device)" : "");
    return p;
  }
  if (o.failed_step) {
    p.verdict = ProbeVerdict::broken;
    p.reason = o.device + " is not usable: " + *o.failed_step;
    return p;
  }
  if (o.loop_unfinished && !o.loop_time) {
    p.verdict = ProbeVerdict::emulated;
    p.reason = o.device + " emulates guests: " + modules_evidence(o.modules) + loop + " unfinished after " +
               format_loop_time(o.deadline) + "; " + bound;
    return p;
  }
  if (!o.loop_time) {
    p.verdict = ProbeVerdict::broken;
    p.reason = o.device + " is not usable: the probe guest ended without timing its loop";
    return p;
  }
  if (*o.loop_time >= kEmulatedLoopThreshold) {
    p.verdict = ProbeVerdict::emulated;
    p.reason = o.device + " emulates guests: " + modules_evidence(o.modules) + loop + " took " +
               format_loop_time(*o.loop_time) + "; " + bound;
    return p;
  }
  p.verdict = ProbeVerdict::usable;
  p.reason = o.device + " runs guests without emulation: " + loop + " took " + format_loop_time(*o.loop_time);
  return p;
}

ProbeObservation observe_host(const std::string& device, milliseconds deadline, uint32_t iterations) {
  const auto started = Clock::now();
  // What is known before the guest runs; the probe thread fills in the rest.
  ProbeObservation known;
  known.device = device;
  known.deadline = deadline;
  known.iterations = std::max<uint32_t>(1, iterations);  // 0 would count down from 2^64
  known.modules = {module_loaded("kvm_pvm"), module_loaded("kvm_amd"), module_loaded("kvm_intel")};
  auto ended_early = [&](bool device_exists, std::string step) {
    known.device_exists = device_exists;
    known.failed_step = std::move(step);
    known.elapsed = Clock::now() - started;
    return known;
  };
  try {
    install_kick_handler();
  } catch (const Error& e) {
    return ended_early(::access(device.c_str(), F_OK) == 0,
                       std::string("the deadline's kick cannot be installed: ") + e.what());
  }
  auto run = std::make_shared<ProbeRun>();
  run->obs = known;
  std::thread thread([run] {
    try {
      unblock_kick_signal();
      ProbeGuest(*run).run();
    } catch (const std::exception& e) {
      if (!run->obs.failed_step) run->obs.failed_step = e.what();
    }
    std::lock_guard lock(run->mu);
    run->done = true;
    run->cv.notify_all();
  });
  std::unique_lock lock(run->mu);
  if (!run->cv.wait_until(lock, started + deadline, [&] { return run->done; })) {
    run->stop.store(true, std::memory_order_release);
    lock.unlock();
    (void)run->kick.kick_until_out(milliseconds(1000));
    lock.lock();
    // A device whose KVM_RUN ignores signals cannot be waited for: leave its thread
    // (it owns what it touches through `run`) and do not read its observation.
    if (!run->cv.wait_for(lock, milliseconds(2000), [&] { return run->done; })) {
      lock.unlock();
      thread.detach();
      return ended_early(true, "the probe vCPU did not leave KVM_RUN when kicked at the deadline");
    }
  }
  lock.unlock();
  thread.join();
  ProbeObservation o = run->obs;
  o.elapsed = Clock::now() - started;
  return o;
}

const HostProbe& probe_host(const std::string& device) {
  static std::mutex mu;
  static std::map<std::string, HostProbe> probed;
  std::lock_guard lock(mu);
  auto it = probed.find(device);
  if (it == probed.end()) it = probed.emplace(device, judge_probe(observe_host(device))).first;
  return it->second;
}

}  // namespace ktstr::kvm
