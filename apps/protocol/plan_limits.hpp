#pragma once
// The one table of the scenario plan's value limits (docs/scenario-protocol.md), shared by
// the host (apps/cli: the scenario parser checks a file against it, so a bad value is a
// "FILE:LINE: field: problem" before anything boots) and the guest agent (apps/agent: the
// plan parser checks /ktstr/plan.json against it). Header-only, no dependencies: the agent
// is a static binary and must not pull in the host's libraries.
//
// Every number below is stated nowhere else. What the host accepts the agent can run:
// each bound is the agent's real constraint, or a sanity bound both sides share.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ktstr::protocol {

/// An inclusive range of an integer plan field.
struct Range {
  int64_t min;
  int64_t max;
  constexpr bool contains(int64_t v) const { return v >= min && v <= max; }
};

/// A worker param (scenario file key = plan `params` key).
struct ParamLimit {
  std::string_view name;
  Range range;
};

// Worker params. Why these bounds:
// - work_us, sleep_us 1..10^7 (10 s): the agent turns them into int64 nanoseconds
//   (value * 1000LL, no overflow: uint32 fields), spins with a checkpoint every
//   checkpoint_us and sleeps with clock_nanosleep that the stop signal (SIGUSR1, no
//   SA_RESTART) interrupts, so a long work or sleep period neither overflows nor delays
//   the stop. The agent's old 10^6 was no constraint of its code; the host's 10^7 stays.
// - burst_ms, idle_ms 1..60000 (1 min): the same loops (value * 10^6 ns = 6e10 at most,
//   fine in int64); the agent's old 1000 was no constraint either.
// - cache_kib 1..1048576 (1 GiB): the cache worker mmaps cache_kib * 1024 bytes (the
//   kernel rounds a mapping up to a page) and walks it in 64-byte strides with a
//   checkpoint at every 4 KiB offset, offset 0 included, so a buffer below one page
//   still checkpoints once per pass: the agent's old minimum 4 was no constraint of its
//   code, and the host (and docs/scenarios.md: "params are integers >= 1") accepted 1.
//   The 1 GiB maximum was already shared; an mmap that fails is the worker's own
//   `error:` exit, not a plan error.
// Kept in name order: the host's parser checks (and reports) the params in this order.
inline constexpr ParamLimit kWorkerParams[] = {
    {"burst_ms", {1, 60'000}},
    {"cache_kib", {1, 1 << 20}},
    {"idle_ms", {1, 60'000}},
    {"sleep_us", {1, 10'000'000}},
    {"work_us", {1, 10'000'000}},
};

/// The limit of a worker param by name; nullptr when there is no such param.
constexpr const ParamLimit* param_limit(std::string_view name) {
  for (const auto& p : kWorkerParams)
    if (p.name == name) return &p;
  return nullptr;
}

// Worker scheduling attributes (sched_setscheduler / setpriority accept exactly these).
inline constexpr Range kRtPriority{1, 99};  ///< fifo and rr; other policies carry 0
inline constexpr Range kNice{-20, 19};      ///< normal and batch

// Sizes of a run (the agent's fixed-size bookkeeping; the host reports them per file).
inline constexpr uint32_t kMaxWorkers = 512;  ///< over the whole run, spawned ones included
inline constexpr uint32_t kMaxCgroups = 64;   ///< created over the whole run
inline constexpr uint32_t kMaxSteps = 256;
inline constexpr uint64_t kMaxDurationMs = 3600 * 1000;  ///< 1 hour; duration_ms is 1..this

// Strings and lists. The agent bounds every plan string (names, cgroup paths, the
// scheduler path) to kMaxPlanString bytes. The host derives plan strings from names in
// the scenario file: "workload/" + cgroup name (+ "-llc" + LLC for per_llc), and worker
// names "<cgroup>.<type>.<index>"; so it limits the names a file may give to
// kMaxNameBytes, which leaves room for every suffix (checked where the plan is built).
inline constexpr std::size_t kMaxPlanString = 256;
inline constexpr std::size_t kMaxNameBytes = 128;     ///< scenario name, cgroup name (whole path)
inline constexpr std::size_t kMaxOpsPerStep = 256;    ///< plan ops of one step (add_cgroup with workers is two)
inline constexpr std::size_t kMaxSchedulerArgs = 64;  ///< the scheduler's arguments (after --)
inline constexpr std::size_t kMaxSchedulerArgBytes = 4096;  ///< each of them
inline constexpr std::size_t kMaxPayloads = 16;       ///< payloads of one run (each a reader thread in the agent)
inline constexpr std::size_t kMaxPayloadArgs = 64;    ///< a payload's arguments (argv[0] not counted)
inline constexpr std::size_t kMaxPayloadArgBytes = 4096;  ///< each of them

// Plan fields the host sets itself (not from the scenario file); the host checks its
// constants against these at compile time.
inline constexpr Range kCheckpointUs{10, 1'000'000};
inline constexpr Range kSchedulerEnableTimeoutMs{1, 600'000};

}  // namespace ktstr::protocol
