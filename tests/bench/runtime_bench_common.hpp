#pragma once
// Shared pieces of runtime_bench: options, sample statistics and the guest to measure on.
#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "kvm/machine.hpp"

namespace ktstr::bench {

struct Options {
  std::filesystem::path kernel;         ///< bzImage (default: the cached Debian 6.1 kernel)
  std::filesystem::path out = "rt";     ///< initramfs, console logs
  std::filesystem::path json;           ///< optional JSON report
  int samples = 200;                    ///< kick / ping samples
  int freezes = 30;                     ///< freeze-all samples per vCPU count
  uint32_t vcpu = 1;                    ///< the vCPU kicked in part 1
  std::vector<uint32_t> counts{1, 2, 4, 8};
  int gap_ms = 5;                       ///< pause between samples: the vCPU goes back to idle in KVM_RUN
  int boot_timeout_s = 400;
};

struct Stats {
  size_t count = 0;
  double median_us = 0, p90_us = 0, min_us = 0, max_us = 0;
};

inline Stats stats_of(std::vector<double> us) {
  Stats s;
  s.count = us.size();
  if (us.empty()) return s;
  std::sort(us.begin(), us.end());
  auto at = [&](double q) { return us[std::min(us.size() - 1, static_cast<size_t>(q * (us.size() - 1) + 0.5))]; };
  s.median_us = at(0.5);
  s.p90_us = at(0.9);
  s.min_us = us.front();
  s.max_us = us.back();
  return s;
}

inline double us_between(std::chrono::steady_clock::time_point t0, std::chrono::steady_clock::time_point t1) {
  return std::chrono::duration<double, std::micro>(t1 - t0).count();
}

inline double us_since(std::chrono::steady_clock::time_point t0) { return us_between(t0, std::chrono::steady_clock::now()); }

/// The same guest as `ktstr-actors run` (command line copied from run_command.cpp's
/// kBaseCmdline, which is file-local there), held alive with idle vCPUs.
kvm::MachineConfig guest_config(const Options& o, uint32_t vcpus, const std::vector<uint8_t>& initrd);

struct KickResult {
  std::vector<double> raw_us;     ///< kick_until_out(): kick, blocked until the vCPU left KVM_RUN
  std::vector<double> raw_poll_us;///< request(), yield-polling served() until it reaches the generation
  std::vector<double> ping_us;    ///< ping + kick until pong
  std::vector<double> freeze1_us; ///< freeze (to the vcpu actor) + kick until parked
  std::vector<double> raw_oneway_us;   ///< kick until the vCPU thread left KVM_RUN
  std::vector<double> ping_oneway_us;  ///< ping + kick until the vcpu actor handled it
  std::string error;
};
KickResult measure_kick(caf::actor_system& system, const Options& o, const std::vector<uint8_t>& initrd);

struct FreezeResult {
  uint32_t vcpus = 0;
  std::vector<double> latency_us;  ///< snapshot.latency_s of each full freeze
  int partial = 0;
  std::string error;
};
FreezeResult measure_freeze(caf::actor_system& system, const Options& o, uint32_t vcpus,
                            const std::vector<uint8_t>& initrd);

}  // namespace ktstr::bench
