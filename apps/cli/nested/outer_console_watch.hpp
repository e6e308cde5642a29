#pragma once
// Follows the nested host's kernel console while a command runs there and reports the
// lines that explain a slow or wedged run (soft lockups, RCU stalls, hung tasks, oopses)
// as they appear, instead of leaving the user with a silent timeout.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ktstr::cli {

/// True for outer-kernel lines that mean the emulated host is in trouble.
bool is_outer_kernel_trouble(std::string_view line);

class OuterConsoleWatch {
 public:
  explicit OuterConsoleWatch(std::filesystem::path log, std::size_t max_reports = 20,
                             unsigned wedge_after_s = 50)
      : log_(std::move(log)), max_reports_(max_reports), wedge_after_s_(wedge_after_s) {}

  /// Reads what was appended since the last call; returns the new trouble lines (at most
  /// max_reports over the watch's life; later ones are only counted).
  std::vector<std::string> poll();

  std::size_t trouble_lines() const { return trouble_; }

  /// Set once the outer kernel panicked or a CPU has been in soft lockup for at least
  /// the wedge threshold: the nested host will not recover. Names the line.
  const std::optional<std::string>& broken() const { return broken_; }

  /// Marks the host broken when the console has not grown for `silent_s` seconds while
  /// it should be printing (nested-init says "alive" every nested::kAliveIntervalS). Call after poll().
  void check_silence(std::chrono::steady_clock::time_point now, unsigned silent_s);

 private:
  std::filesystem::path log_;
  std::size_t max_reports_;
  std::uint64_t offset_ = 0;
  std::string partial_;
  std::size_t trouble_ = 0;
  unsigned wedge_after_s_;
  std::optional<std::string> broken_;
  std::uint64_t seen_offset_ = 0;
  std::chrono::steady_clock::time_point last_growth_ = std::chrono::steady_clock::now();
};

/// Seconds of a "soft lockup - CPU#n stuck for Ns!" line; nullopt for other lines.
std::optional<unsigned> soft_lockup_seconds(std::string_view line);

}  // namespace ktstr::cli
