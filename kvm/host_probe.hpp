#pragma once
// Is this host's /dev/kvm able to run our guests? Decided by behaviour, not by the
// device node: a /dev/kvm that opens, answers KVM_GET_API_VERSION = 12 and creates VMs
// may still run an ordinary guest by instruction emulation (kvm_pvm, shared/docs/
// PLATFORM.md §1), where a Linux boot takes minutes before its first console line.
//
// The probe opens the device, checks the API version and the capabilities the VMM
// needs, then runs a tiny long-mode guest (identity-mapped page tables) that reports
// on port 0x80, counts a register down from kProbeIterations and reports again, and
// times the loop between the two reports. Hardware KVM runs it in well under 1 ms;
// emulation takes over a second. The whole probe has its own deadline: a kick ends a
// guest that does not finish, so it can never hang the caller.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ktstr::kvm {

/// Iterations of the probe loop (`dec rcx; jnz`): long enough that emulation shows
/// (about 1.1-1.7 us per iteration under kvm_pvm), short enough to cost nothing on
/// real KVM.
inline constexpr uint32_t kProbeIterations = 1'000'000;

/// A loop at or above this took emulation to run. Measured for the 1,000,000-iteration
/// loop (2026-12-02): hardware KVM well under 1 ms; real KVM inside the nested
/// software-KVM host (itself under QEMU TCG) 25 ms; kvm_pvm running an ordinary guest
/// 1,130-1,680 ms. 250 ms sits 10x above the slowest real KVM seen and 4.5x below the
/// fastest emulation seen.
inline constexpr std::chrono::milliseconds kEmulatedLoopThreshold{250};
/// A loop between the threshold and twice it is judged again (the best of up to three
/// runs counts): a loaded machine can slow real KVM down once, not three times.
inline constexpr int kProbeLoopRuns = 3;
/// The whole probe, from open to the last HLT.
inline constexpr std::chrono::milliseconds kProbeDeadline{5000};

enum class ProbeVerdict {
  usable,    ///< KVM runs the probe guest at hardware speed
  emulated,  ///< the probe guest ran, far too slowly: guests are emulated (e.g. kvm_pvm)
  broken,    ///< the device is there but a step failed (open, an ioctl, a capability, the guest)
  absent,    ///< no /dev/kvm
};
const char* to_string(ProbeVerdict verdict);

/// What the device answered (zeros where it was not reached).
struct KvmCapabilities {
  int api_version = 0;
  bool immediate_exit = false;
  bool set_guest_debug = false;
  bool kvmclock_ctrl = false;
  int nr_vcpus = 0;   ///< KVM_CAP_NR_VCPUS: vCPUs recommended
  int max_vcpus = 0;  ///< KVM_CAP_MAX_VCPUS: vCPUs allowed
  std::vector<std::string> missing;  ///< required capabilities the device lacks
};

/// Which KVM modules are loaded (/sys/module): evidence only, never the decision.
struct KvmModules {
  bool kvm_pvm = false;
  bool kvm_amd = false;
  bool kvm_intel = false;
};

/// Everything the probe saw; judge_probe() turns it into a verdict.
struct ProbeObservation {
  std::string device = "/dev/kvm";
  bool device_exists = false;
  KvmCapabilities caps;
  KvmModules modules;
  /// The step that failed ("open /dev/kvm: Permission denied", "KVM_CREATE_VCPU: ..."), if any.
  std::optional<std::string> failed_step;
  /// The loop started (first report seen) but had not finished when the deadline kicked it.
  bool loop_unfinished = false;
  /// The best loop time of the runs made (only when at least one run finished).
  std::optional<std::chrono::nanoseconds> loop_time;
  std::vector<std::chrono::nanoseconds> loop_runs;  ///< every finished run, in order
  uint64_t iterations = kProbeIterations;
  std::chrono::milliseconds deadline = kProbeDeadline;
  std::chrono::nanoseconds elapsed{0};  ///< the whole probe, open to verdict
};

struct HostProbe {
  ProbeVerdict verdict = ProbeVerdict::absent;
  /// One line a user can act on, e.g. "/dev/kvm emulates guests: kvm_pvm, probe loop
  /// 1,680 ms for 1,000,000 iterations (hardware KVM: under 250 ms)".
  std::string reason;
  ProbeObservation observation;
};

/// The verdict from what was observed (pure: unit-tested on recorded observations).
HostProbe judge_probe(const ProbeObservation& observation);

/// Opens `device`, checks it and runs the probe guest on its own thread, ending it with
/// a kick at the deadline. Installs the kick signal handler (install_kick_handler).
/// `iterations` (at most 2^32 - 1) is for tests that need a loop outlasting the deadline.
ProbeObservation observe_host(const std::string& device = "/dev/kvm",
                              std::chrono::milliseconds deadline = kProbeDeadline,
                              uint32_t iterations = kProbeIterations);

/// observe_host + judge_probe, once per process and device: later calls return the
/// first result (a process never re-probes per VM; a new process always probes anew).
const HostProbe& probe_host(const std::string& device = "/dev/kvm");

/// "1,680 ms" / "0.31 ms": a loop time as the reason lines print it.
std::string format_loop_time(std::chrono::nanoseconds t);

}  // namespace ktstr::kvm
