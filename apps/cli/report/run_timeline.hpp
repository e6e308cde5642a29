#pragma once
// One run's timeline, taken from its result.json: per CPU what ran and how many tasks
// were runnable (the monitor's samples of guest memory), and the moments worth marking
// (freezes, faults, watchpoint hits, sched_ext exits, findings, scheduler events, scenario
// steps), all in seconds from the VM's start. The HTML report draws it (timeline_svg.hpp).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ktstr::cli {

/// What a CPU ran from one sample to the next (consecutive samples of one task merged).
struct TaskSpan {
  double from_s = 0, to_s = 0;
  std::string comm;
  int64_t pid = -1;
  bool idle = false;  ///< pid 0: the CPU's idle task
};

/// The run queue's depth (rq->nr_running) at one sample.
struct DepthPoint {
  double at_s = 0;
  double depth = 0;
};

struct CpuLane {
  uint32_t cpu = 0;
  std::vector<TaskSpan> ran;
  std::vector<DepthPoint> depth;
};

enum class MarkKind { freeze, fault, watch_hit, sched_exit, finding, scheduler, step };
const char* mark_kind_name(MarkKind kind);

struct TimelineMark {
  MarkKind kind = MarkKind::step;
  double from_s = 0, to_s = 0;   ///< equal for a moment, else an interval (a freeze, a stall)
  std::optional<uint32_t> cpu;   ///< the lane it belongs to; nullopt: the events row
  std::string severity;          ///< "fail", "inconclusive", "planned" (a fault never applied), or ""
  std::string label;             ///< the tooltip: untrusted text, escaped when drawn
};

struct RunTimeline {
  double span_s = 0;                    ///< the time axis: 0 .. span_s
  std::vector<CpuLane> lanes;           ///< one per CPU, by CPU number
  double max_depth = 0;                 ///< the deepest run queue seen on any CPU
  std::vector<TimelineMark> marks;
  std::optional<double> scenario_start_s;  ///< the scenario's t0 in VM time, when it can be told
  std::vector<std::string> notes;       ///< what could not be drawn, and why
};

/// At most this many CPU lanes (a larger declared count is cut, with a note).
inline constexpr uint32_t kMaxLanes = 256;
/// At most this many spans and depth points per lane: past it, each pixel keeps its busiest task and deepest queue.
inline constexpr size_t kMaxPointsPerLane = 2000;

/// `cpus`: the lanes to draw when the result does not say (0: from the result alone).
RunTimeline run_timeline(const nlohmann::json& result, uint32_t cpus = 0);

}  // namespace ktstr::cli
