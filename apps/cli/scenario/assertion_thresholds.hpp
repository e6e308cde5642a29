#pragma once
// Limits a scenario run is judged against. Defaults here; a scenario file's [assert]
// table overrides them field by field (docs/scenarios.md).
#include <optional>
#include <string_view>

namespace ktstr::cli {

/// The one range of each numeric threshold, for a file's [assert] and `run --assert` alike.
struct ThresholdRange {
  std::string_view name;
  double min, max;
};
inline constexpr ThresholdRange kMaxGapMsRange{"max_gap_ms", 1, 3600e3};
inline constexpr ThresholdRange kFairnessSpreadRange{"fairness_spread_pct", 0, 100};
inline constexpr ThresholdRange kThroughputSpreadRange{"throughput_spread_pct", 0, 100};
inline constexpr ThresholdRange kPredictedStallRange{"predicted_stall_pct", 1, 100};
inline constexpr ThresholdRange kRqClockStuckRange{"rq_clock_stuck_ms", 100, 3600e3};
inline constexpr ThresholdRange kImbalanceRange{"imbalance_ms", 100, 3600e3};

struct AssertionThresholds {
  bool starvation = true;            ///< fail a worker with zero work units
  double fairness_spread_pct = 15;   ///< max - min off-CPU % among a cgroup's workers
  double max_gap_ms = 2000;          ///< longest gap between two progress checkpoints
  bool isolation = true;             ///< fail a worker seen on a CPU outside its allowed set
  /// max/min work units among a cgroup's workers of the same type, in %
  /// ((max - min) / max * 100); nullopt: not checked.
  std::optional<double> throughput_spread_pct;
  // From the host's view of guest memory (the monitor):
  /// a runnable sched_ext task waiting longer than this share of the watchdog timeout
  double predicted_stall_pct = 50;
  /// a CPU whose rq clock stood still this long while its vCPU ran guest code
  double rq_clock_stuck_ms = 2000;
  /// a CPU with >= 2 runnable tasks while another sat idle this long; nullopt: not checked
  /// (scenarios that pin work unevenly want imbalance)
  std::optional<double> imbalance_ms;
};

}  // namespace ktstr::cli
