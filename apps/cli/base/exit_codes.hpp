#pragma once
// Exit codes of ktstr-actors. Documented in README.md; tests assert them.
namespace ktstr::cli {

enum ExitCode : int {
  exit_pass = 0,                ///< the run passed (observed == declared, verdict pass)
  exit_fail = 1,                ///< the run completed and failed (e.g. topology mismatch)
  exit_inconclusive = 2,        ///< the run could not decide
  exit_skip = 3,                ///< the scenario was skipped and `run --fail-on-skip` was given
  exit_usage = 64,              ///< bad command-line usage (unknown flag, malformed value), or a
                                ///< working directory the nested host cannot enter (status "refused")
  exit_kernel_image = 65,       ///< kernel file missing, unreadable or not a bzImage
  exit_boot_protocol = 66,      ///< bzImage with an unsupported boot protocol
  exit_topology = 67,           ///< zero or inconsistent topology
  exit_too_many_vcpus = 68,     ///< more vCPUs than supported
  exit_memory = 69,             ///< memory too small for the topology
  exit_no_host = 70,            ///< no /dev/kvm and no nested host available
  exit_guest_timeout = 71,      ///< the guest never reached the agent in time
  exit_guest_panic = 72,        ///< the guest kernel panicked
  exit_vmm_error = 73,          ///< KVM or host failure inside the VMM
  exit_guest_protocol = 74,     ///< the guest agent sent malformed or incomplete reports
  exit_nested_timeout = 75,     ///< the nested host's command exceeded its time bound
  exit_guest_hang = 76,         ///< the guest went silent (no output or heartbeat) past the stall timeout
  exit_scenario = 77,           ///< scenario file invalid, or no such built-in scenario
  exit_scheduler = 78,          ///< scheduler binary missing, not executable, or a library it needs is missing
  exit_nested_host_failed = 79, ///< the nested host itself crashed, wedged or died before the command finished
  exit_kernel_source = 80,      ///< kernel build: source or build tools missing (scripts/setup.sh --kernel-build)
  exit_kernel_config = 81,      ///< kernel build: `make olddefconfig` dropped a symbol the fragment enables
  exit_kernel_build = 82,       ///< kernel build: a build step failed (unpack, make, objcopy, schedulers)
  exit_kvm_emulated = 83,       ///< /dev/kvm only emulates guests (host probe; `run --host=kvm` refuses it)
  exit_kvm_broken = 84,         ///< /dev/kvm is there but not usable: a probe step failed (host probe)
  exit_watch = 85,              ///< run --watch: malformed, unknown symbol, misaligned, or more than 3
  exit_experiment = 86,         ///< experiment file invalid, or no such built-in experiment
  exit_fault = 87,              ///< run --fault: unknown kind, bad value, no such vCPU, past the run, overlapping, unknown symbol
  exit_payload = 88,            ///< payload: malformed command, program missing, not an x86-64 ELF executable,
                                ///< or a library it needs is missing
  exit_remote = 89,             ///< workers: a bad address or credentials, a worker that cannot be reached or
                                ///< refuses us, a port that cannot be opened
};

}  // namespace ktstr::cli
