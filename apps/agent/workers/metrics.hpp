#pragma once
// Pure measurement logic of a worker (no system calls), so it can be unit tested.
// Every type is trivially copyable: the worker keeps them in shared memory, where the
// agent reads them even after the worker was SIGKILLed.
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace ktstr::agent {

/// A set of CPU ids 0..1023.
struct CpuBits {
  static constexpr int kMax = 1024;
  uint64_t words[kMax / 64] = {};
  void set(int cpu) {
    if (cpu >= 0 && cpu < kMax) words[cpu / 64] |= uint64_t{1} << (cpu % 64);
  }
  bool test(int cpu) const { return cpu >= 0 && cpu < kMax && (words[cpu / 64] >> (cpu % 64)) & 1; }
  bool empty() const;
  bool operator==(const CpuBits& o) const;
  std::vector<int> list() const;
  static CpuBits of(const std::vector<int>& cpus);
};

/// Longest wall time between consecutive checkpoints.
struct GapTracker {
  int64_t last_ns = -1;
  int64_t max_gap_ns = 0;
  int64_t max_gap_at_ns = 0;  ///< when the longest gap began
  int max_gap_cpu = -1;        ///< CPU seen at the checkpoint that ended it
  void start(int64_t now_ns) { last_ns = now_ns; }
  /// A voluntary block until from_ns is not a gap: measure from there (never earlier
  /// than the last checkpoint).
  void resume_at(int64_t from_ns) {
    if (from_ns > last_ns) last_ns = from_ns;
  }
  void observe(int64_t now_ns, int cpu);
};

/// Running on a CPU outside the allowed mask; CPUs reached within grace_ns of a mask
/// change do not count.
struct IsolationTracker {
  static constexpr int64_t kGraceNs = 50'000'000;
  uint64_t violations = 0;
  int first_cpu = -1;
  int64_t first_at_ns = 0;
  CpuBits first_allowed;
  int64_t grace_until_ns = INT64_MIN;
  void mask_changed(int64_t at_ns) {
    if (at_ns + kGraceNs > grace_until_ns) grace_until_ns = at_ns + kGraceNs;
  }
  /// Returns true when this observation was a violation.
  bool observe(int64_t now_ns, int cpu, const CpuBits& allowed);
};

/// Log-linear histogram of microsecond values: exact below 32, 16 sub-buckets per
/// power of two above (relative error <= 6.25 %).
struct LatencyHistogram {
  static constexpr int kLinear = 32;
  static constexpr int kMaxExp = 40;
  static constexpr int kBuckets = kLinear + (kMaxExp - 5 + 1) * 16;
  uint64_t count = 0;
  uint64_t max = 0;
  uint64_t buckets[kBuckets] = {};
  static int index_of(uint64_t us);
  static uint64_t lower_bound_of(int index);
  void add(uint64_t us);
  /// The value at quantile q (0..1): the bucket's lower bound, never above max.
  uint64_t percentile(double q) const;
};

struct Schedstat {
  uint64_t run_ns = 0, wait_ns = 0, timeslices = 0;
};
/// "/proc/<pid>/schedstat" text: "run_ns wait_ns timeslices".
std::optional<Schedstat> parse_schedstat(std::string_view text);

}  // namespace ktstr::agent
