#include "metrics.hpp"

#include <bit>
#include <charconv>

namespace ktstr::agent {

bool CpuBits::empty() const {
  for (auto w : words)
    if (w) return false;
  return true;
}
bool CpuBits::operator==(const CpuBits& o) const {
  for (int i = 0; i < kMax / 64; ++i)
    if (words[i] != o.words[i]) return false;
  return true;
}
std::vector<int> CpuBits::list() const {
  std::vector<int> out;
  for (int c = 0; c < kMax; ++c)
    if (test(c)) out.push_back(c);
  return out;
}
CpuBits CpuBits::of(const std::vector<int>& cpus) {
  CpuBits b;
  for (int c : cpus) b.set(c);
  return b;
}

void GapTracker::observe(int64_t now_ns, int cpu) {
  if (last_ns >= 0 && now_ns - last_ns > max_gap_ns) {
    max_gap_ns = now_ns - last_ns;
    max_gap_at_ns = last_ns;
    max_gap_cpu = cpu;
  }
  last_ns = now_ns;
}

bool IsolationTracker::observe(int64_t now_ns, int cpu, const CpuBits& allowed) {
  if (cpu < 0 || allowed.empty() || allowed.test(cpu) || now_ns < grace_until_ns) return false;
  if (violations++ == 0) {
    first_cpu = cpu;
    first_at_ns = now_ns;
    first_allowed = allowed;
  }
  return true;
}

int LatencyHistogram::index_of(uint64_t us) {
  if (us < kLinear) return static_cast<int>(us);
  int e = 63 - std::countl_zero(us);  // >= 5
  if (e > kMaxExp) return kBuckets - 1;
  int sub = static_cast<int>((us >> (e - 4)) & 15);
  return kLinear + (e - 5) * 16 + sub;
}

uint64_t LatencyHistogram::lower_bound_of(int index) {
  if (index < kLinear) return static_cast<uint64_t>(index);
  int e = (index - kLinear) / 16 + 5;
  uint64_t sub = static_cast<uint64_t>((index - kLinear) % 16);
  return (uint64_t{1} << e) + (sub << (e - 4));
}

void LatencyHistogram::add(uint64_t us) {
  ++count;
  if (us > max) max = us;
  ++buckets[index_of(us)];
}

uint64_t LatencyHistogram::percentile(double q) const {
  if (count == 0) return 0;
  uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(count) + 0.999999);
  if (rank < 1) rank = 1;
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += buckets[i];
    if (seen >= rank) {
      auto v = lower_bound_of(i);
      return v > max ? max : v;
    }
  }
  return max;
}

std::optional<Schedstat> parse_schedstat(std::string_view text) {
  Schedstat s;
  uint64_t* fields[] = {&s.run_ns, &s.wait_ns, &s.timeslices};
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (auto* f : fields) {
    while (p < end && *p == ' ') ++p;
    auto [next, ec] = std::from_chars(p, end, *f);
    if (ec != std::errc()) return std::nullopt;
    p = next;
  }
  return s;
}

}  // namespace ktstr::agent
