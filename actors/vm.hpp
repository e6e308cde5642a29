#pragma once
// The vm actor supervises one VM: it builds the machine, spawns the console actor and
// one vcpu actor per vCPU, ends the VM when the guest stops it, panics, fails or runs
// out of time (stop message + native kick to every vCPU, re-kicked every 10 ms until
// all have left KVM_RUN or the stop deadline passes), and reports run_finished.
#include <caf/all.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kvm/kick.hpp"
#include "kvm/machine.hpp"
#include "messages/messages.hpp"

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
  std::chrono::milliseconds perf_period{0};  ///< perf sampling period; 0: no sampler
  std::vector<std::pair<std::chrono::milliseconds, std::string>> freeze_schedule;
  caf::actor observer;  ///< receives agent_line, snapshot and, at the end, run_finished
};

struct vm_state {
  VmConfig config;
  std::chrono::steady_clock::time_point start;
  std::shared_ptr<kvm::Machine> machine;
  caf::actor console;
  caf::actor watchdog;
  caf::actor freeze_coordinator;
  caf::actor perf_sampler;
  std::vector<caf::actor> vcpus;
  std::vector<std::shared_ptr<kvm::VcpuKick>> kicks;
  std::vector<bool> exited;
  size_t exited_count = 0;
  bool stopping = false;
  std::chrono::steady_clock::time_point stop_started;
  msg::run_finished result;
  static constexpr const char* name = "vm";
};

caf::behavior vm_actor(caf::stateful_actor<vm_state>* self, VmConfig config);

}  // namespace ktstr::actors
