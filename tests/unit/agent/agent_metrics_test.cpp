#include <catch2/catch.hpp>

#include "cgroups.hpp"
#include "workers/metrics.hpp"

using namespace ktstr::agent;

TEST_CASE("agent metrics: gap tracking keeps the longest gap, its start and the CPU after it", "[agent][metrics]") {
  GapTracker g;
  g.start(1000);
  g.observe(2000, 0);
  g.observe(9000, 3);  // 7000 ns gap starting at 2000, ended on CPU 3
  g.observe(10000, 3);
  CHECK(g.max_gap_ns == 7000);
  CHECK(g.max_gap_at_ns == 2000);
  CHECK(g.max_gap_cpu == 3);
  // A voluntary block is not a gap: measured from the expected wake-up only.
  g.resume_at(100000);
  g.observe(101000, 1);
  CHECK(g.max_gap_ns == 7000);
  g.resume_at(50);  // never earlier than the last checkpoint
  g.observe(111000, 2);
  CHECK(g.max_gap_ns == 10000);
  CHECK(g.max_gap_at_ns == 101000);
}

TEST_CASE("agent metrics: isolation counts CPUs outside the mask, except within the grace", "[agent][metrics]") {
  IsolationTracker iso;
  auto allowed = CpuBits::of({0, 1});
  CHECK_FALSE(iso.observe(1'000'000'000, 1, allowed));
  CHECK(iso.observe(1'000'000'000, 2, allowed));
  CHECK(iso.violations == 1);
  CHECK(iso.first_cpu == 2);
  CHECK(iso.first_allowed.list() == std::vector<int>{0, 1});
  iso.mask_changed(2'000'000'000);
  CHECK_FALSE(iso.observe(2'040'000'000, 3, CpuBits::of({3})));
  CHECK_FALSE(iso.observe(2'049'000'000, 0, CpuBits::of({3})));  // still within 50 ms
  CHECK(iso.observe(2'051'000'000, 0, CpuBits::of({3})));
  CHECK(iso.violations == 2);
  CHECK(iso.first_cpu == 2);  // first stays first
  CHECK_FALSE(iso.observe(3'000'000'000, -1, allowed));  // sched_getcpu failed
}

TEST_CASE("agent metrics: latency histogram percentiles", "[agent][metrics]") {
  LatencyHistogram h;
  CHECK(h.percentile(0.5) == 0);
  for (uint64_t v = 1; v <= 100; ++v) h.add(v);
  CHECK(h.count == 100);
  CHECK(h.max == 100);
  CHECK(h.percentile(0.5) == 50);   // 32..63 are 2-wide buckets: 50 exact
  CHECK(h.percentile(0.99) >= 92);  // 96..103 bucket lower bound ~ within 6.25 %
  CHECK(h.percentile(0.99) <= 100);
  h.add(1'000'000'000'000ULL);  // beyond the last bucket: clamps, max exact
  CHECK(h.max == 1'000'000'000'000ULL);
  for (uint64_t v : {33ULL, 1000ULL, 123456ULL}) {
    auto lb = LatencyHistogram::lower_bound_of(LatencyHistogram::index_of(v));
    CHECK(lb <= v);
    CHECK(static_cast<double>(v - lb) <= 0.0625 * static_cast<double>(v));
  }
}

TEST_CASE("agent metrics: schedstat text and CPU lists", "[agent][metrics]") {
  auto s = parse_schedstat("4990200000 5000000000 2100\n");
  REQUIRE(s);
  CHECK(s->run_ns == 4990200000ULL);
  CHECK(s->wait_ns == 5000000000ULL);
  CHECK(s->timeslices == 2100);
  CHECK_FALSE(parse_schedstat("12 x"));
  CHECK(format_cpu_list({0, 1, 2, 5, 7, 8}) == "0-2,5,7-8");
  CHECK(format_cpu_list({3}) == "3");
  CHECK(format_cpu_list({}) == "");
}
