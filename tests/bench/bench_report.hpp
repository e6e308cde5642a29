#pragma once
// What the boot benchmark prints and writes: every sample, the median per VMM, the
// ratios of ours to each QEMU machine and the goal line.
#include <filesystem>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "vmm_sample.hpp"

namespace ktstr::bench {

struct BenchContext {
  std::string qemu_version;
  std::filesystem::path kernel;
  std::filesystem::path initramfs;
  std::string initramfs_source;  ///< who wrote it: ours' first run, the image builder, the user
  std::string cmdline;
  std::string accel;
  int runs = 0;
  int timeout_s = 0;
  std::vector<Vmm> vmms;
};

/// Median wall time of the samples of vmm that have a number; nullopt if none has.
std::optional<double> median_wall(const std::vector<Sample>& samples, Vmm vmm);
/// Median of the agent's own uptime at boot_done, same samples.
std::optional<double> median_guest_uptime(const std::vector<Sample>& samples, Vmm vmm);

void print_header(std::ostream& out, const BenchContext& ctx);
void print_sample(std::ostream& out, const Sample& s);
void print_summary(std::ostream& out, const BenchContext& ctx, const std::vector<Sample>& samples);
void write_json(const std::filesystem::path& path, const BenchContext& ctx, const std::vector<Sample>& samples);

}  // namespace ktstr::bench
