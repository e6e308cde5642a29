#pragma once
// One boot-to-agent measurement: spawn a VMM, watch its serial output files for the
// agent's boot_done line, stop the clock, end the VMM.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ktstr::bench {

enum class Vmm { ours, microvm, q35 };

std::string_view vmm_name(Vmm vmm);

struct BenchConfig {
  std::filesystem::path cli;        ///< ktstr-actors
  std::filesystem::path qemu;       ///< qemu-system-x86_64
  std::filesystem::path kernel;     ///< the bzImage every VMM boots
  std::filesystem::path initramfs;  ///< written by our CLI, reused for QEMU
  std::string cmdline;              ///< our kBaseCmdline
  std::string accel = "kvm";        ///< "tcg" only to check the QEMU lines without KVM
  int timeout_s = 120;
};

struct Sample {
  Vmm vmm = Vmm::ours;
  int run = 0;  ///< 0 = warm-up, not counted
  bool ok = false;
  double wall_s = 0;                     ///< spawn -> boot_done line seen
  std::optional<double> guest_uptime_s;  ///< the agent's own uptime at boot_done
  std::string signal;                    ///< where boot_done was seen: "com2" or "com1"
  std::string error;                     ///< why there is no number (ok == false)
  std::string note;                      ///< anything odd that does not void the number
  std::filesystem::path dir;
};

/// The QEMU command line for microvm or q35; COM1 -> dir/com1.log, COM2 -> dir/com2.log.
std::vector<std::string> qemu_argv(const BenchConfig& config, Vmm vmm, const std::filesystem::path& dir);

/// Boots once into dir (created; must not contain ',' which QEMU's option parser splits on).
Sample measure_boot(const BenchConfig& config, Vmm vmm, int run, const std::filesystem::path& dir);

}  // namespace ktstr::bench
