#pragma once
// Progress of a Kbuild `make`: its quiet output has one line per step, e.g.
// "  CC      kernel/sched/core.o". Pure: the caller feeds lines and the clock.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ktstr::cli {

struct KbuildStep {
  std::string tool;    ///< "CC", "AS", "LD", "HOSTCC", "CC [M]", ...
  std::string target;  ///< "kernel/sched/core.o"
};

/// A Kbuild quiet-mode line, or nullopt for anything else (warnings, make's own lines).
std::optional<KbuildStep> parse_kbuild_line(std::string_view line);

/// Whether the step compiled a kernel object (CC or AS of a .o): what progress counts.
bool is_compile_step(const KbuildStep& step);

class MakeProgress {
 public:
  /// expected: the number of compile steps expected in all (0: unknown); rough: whether
  /// it is only a guess (shown with "~").
  explicit MakeProgress(std::size_t expected = 0, bool rough = true) : expected_(expected), rough_(rough) {}

  /// Returns true when the line was a compile step.
  bool feed(std::string_view line);

  std::size_t compiled() const { return compiled_; }
  /// The expected total, never below what was already compiled.
  std::size_t expected() const;
  const std::string& last_target() const { return last_target_; }

  /// Seconds left by linear extrapolation; nullopt while unknown.
  std::optional<double> seconds_left(double elapsed_s) const;

  /// "812/~2900 objects (28%)  5m12s elapsed  ~13m left  kernel/sched/core.o"
  std::string render(double elapsed_s) const;

 private:
  std::size_t expected_;
  bool rough_;
  std::size_t compiled_ = 0;
  std::string last_target_;
};

/// "1h02m", "36m12s", "45s".
std::string format_duration(double seconds);

}  // namespace ktstr::cli
