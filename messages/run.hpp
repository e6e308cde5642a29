#pragma once
// The vm actor's final word on a run.
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "messages/fault.hpp"
#include "messages/freeze.hpp"
#include "messages/monitor.hpp"
#include "messages/optional_field.hpp"
#include "messages/perf.hpp"

namespace ktstr::msg {

/// How a run ended; the first reason to stop is the one reported.
enum class run_end : uint8_t {
  power_off,    ///< the guest powered off (the normal end)
  reset,        ///< the guest reset the machine
  shutdown,     ///< triple fault
  panic,        ///< the guest kernel panicked
  timeout,      ///< the watchdog's hard stage: run deadline plus grace passed
  hang,         ///< no guest output or heartbeat for the stall timeout
  vcpu_failed,  ///< a vCPU's run loop failed or its actor died
  vmm_error,    ///< the machine could not be built, or the vm actor did not report
  no_kvm,       ///< no usable /dev/kvm
  stopped,      ///< asked to stop, or every vCPU left its loop
};

/// The text result.json's vm_end.how and the summary use ("power-off", "vcpu-failed", ...).
inline const char* to_string(run_end how) {
  switch (how) {
    case run_end::power_off: return "power-off";
    case run_end::reset: return "reset";
    case run_end::shutdown: return "shutdown";
    case run_end::panic: return "panic";
    case run_end::timeout: return "timeout";
    case run_end::hang: return "hang";
    case run_end::vcpu_failed: return "vcpu-failed";
    case run_end::vmm_error: return "vmm-error";
    case run_end::no_kvm: return "no-kvm";
    case run_end::stopped: return "stopped";
  }
  return "?";
}

/// The vm actor's final word to whoever asked for the run.
struct run_finished {
  run_end how = run_end::stopped;
  std::string detail;
  double elapsed_s = 0;
  std::vector<std::string> console_tail;  ///< last kernel console lines
  std::vector<std::string> panic_lines;   ///< non-empty when the kernel panicked
  std::vector<uint32_t> stuck_vcpus;      ///< vCPUs that never left KVM_RUN
  std::optional<perf_report> perf;        ///< absent when no perf sampler ran (or it did not answer)
  std::optional<monitor_report> monitor;  ///< absent when no monitor ran (--monitor-period 0)
  std::vector<fault_event> faults;        ///< each injected fault with its times
  /// When the guest died or hung (shutdown, vcpu-failed, panic, hang, timeout): every vCPU's
  /// state, the faulting vCPU first (its own capture right after its exit), then the others
  /// as a final freeze found them, by index. Empty for a normal end.
  std::vector<parked> vcpu_states;
  std::vector<uint32_t> vcpu_states_missing;  ///< vCPUs whose state did not come in time
  int32_t faulting_vcpu = -1;                 ///< the vCPU whose exit ended the guest; -1: none
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, run_finished& x) {
  return f(caf::meta::type_name("run_finished"), x.how, x.detail, x.elapsed_s, x.console_tail, x.panic_lines,
           x.stuck_vcpus, x.perf, x.monitor, x.faults, x.vcpu_states, x.vcpu_states_missing, x.faulting_vcpu);
}

}  // namespace ktstr::msg
