#pragma once
// Limits a scenario run is judged against. Defaults here; a scenario file's [assert]
// table overrides them field by field (docs/scenarios.md).
#include <optional>

namespace ktstr::cli {

struct AssertionThresholds {
  bool starvation = true;            ///< fail a worker with zero work units
  double fairness_spread_pct = 15;   ///< max - min off-CPU % among a cgroup's workers
  double max_gap_ms = 2000;          ///< longest gap between two progress checkpoints
  bool isolation = true;             ///< fail a worker seen on a CPU outside its allowed set
  /// max/min work units among a cgroup's workers of the same type, in %
  /// ((max - min) / max * 100); nullopt: not checked.
  std::optional<double> throughput_spread_pct;
};

}  // namespace ktstr::cli
