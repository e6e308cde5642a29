#pragma once
// The vm actor supervises one VM: it builds the machine, spawns the console actor, one
// vcpu actor per vCPU, the freeze coordinator, the perf sampler and the monitor (when
// asked for), ends the VM when the guest stops it, panics, fails or runs
// out of time (stop message + native kick to every vCPU, re-kicked every 10 ms until
// all have left KVM_RUN or the stop deadline passes), and reports run_finished.
// A dead or hung guest (triple fault, failed vCPU, panic, stall, deadline) is frozen
// first: a final freeze, bounded by the evidence deadline, records every vCPU's state
// (the faulting vCPU's own capture first) in run_finished::vcpu_states, then the stop.
#include <caf/all.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/guest_view.hpp"
#include "actors/interfaces.hpp"
#include "actors/monitor.hpp"
#include "actors/vm_end.hpp"
#include "kvm/guest_kernel/kernel_layout.hpp"
#include "kvm/kick.hpp"
#include "kvm/machine.hpp"
#include "messages/run.hpp"

namespace ktstr::actors {

struct VmConfig {
  kvm::MachineConfig machine;
  std::filesystem::path kernel_log;
  std::filesystem::path agent_log;
  std::chrono::milliseconds run_deadline{std::chrono::seconds(60)};   ///< watchdog soft stage
  std::chrono::milliseconds hard_grace{std::chrono::seconds(10)};     ///< soft -> hard stage
  std::chrono::milliseconds stall_timeout{std::chrono::seconds(0)};   ///< no guest output (0: off)
  std::chrono::milliseconds stop_deadline{std::chrono::seconds(5)};
  std::chrono::milliseconds freeze_deadline{std::chrono::seconds(30)};
  std::chrono::milliseconds evidence_deadline{std::chrono::seconds(2)};  ///< the final freeze before a death's stop
  std::chrono::milliseconds perf_period{0};  ///< perf sampling period; 0: no sampler
  std::vector<std::pair<std::chrono::milliseconds, std::string>> freeze_schedule;
  std::chrono::milliseconds monitor_period{0};  ///< guest-memory monitor period; 0: no monitor
  bool hardware_watchpoints = true;             ///< the monitor also arms the vCPUs' debug registers
  std::optional<guest_kernel::KernelLayout> kernel_layout;  ///< nullopt: monitor unavailable, why below
  std::string monitor_unavailable;
  std::vector<WatchConfig> watches;  ///< run --watch (monitor)
  std::vector<msg::fault_event> faults;  ///< run --fault: injected at their times (apps/cli/vm/fault_option.hpp)
  run_observer observer;  ///< receives agent_line, snapshot and, at the end, run_finished
};

struct vm_state {
  VmConfig config;
  std::chrono::steady_clock::time_point start;
  std::shared_ptr<kvm::Machine> machine;
  console_actor_t console;
  watchdog_actor_t watchdog;
  freeze_coordinator_actor_t freeze_coordinator;
  perf_sampler_actor_t perf_sampler;
  monitor_actor_t monitor;
  std::shared_ptr<GuestView> guest_view;  ///< the located kernel, shared by monitor and freeze coordinator
  std::vector<caf::actor> vcpus;  ///< dynamically typed (actors/vcpu.hpp)
  std::vector<std::shared_ptr<kvm::VcpuKick>> kicks;
  std::vector<bool> exited;
  size_t exited_count = 0;
  VmEndLatch end;  ///< decided once the VM is stopping
  std::optional<msg::parked> faulting;  ///< the vCPU whose exit ended the guest, as it read itself
  bool collecting_evidence = false;     ///< a final freeze is out: the stop waits for it
  std::chrono::steady_clock::time_point stop_started;
  msg::run_finished result;
  static constexpr const char* name = "vm";
};

vm_actor_t::behavior_type vm_actor(vm_actor_t::stateful_pointer<vm_state> self, VmConfig config);

}  // namespace ktstr::actors
