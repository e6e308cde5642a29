// Comparison: metrics read from result.json, ratios against the baseline, and Welch's
// t-test checked against values computed independently (Student's density integrated numerically).
#include <catch2/catch.hpp>

#include "apps/cli/experiment/comparison.hpp"

using namespace ktstr::cli;

namespace {

nlohmann::json result(double work_a, double work_b, double gap, double spread) {
  return {{"boot", {{"host_to_agent_s", 4.5}}},
          {"scenario",
           {{"workers",
             {{{"work_units", work_a}, {"max_gap_ms", gap}, {"migrations", 3}, {"schedstat", {{"wait_ns", 2e6}}}},
              {{"work_units", work_b}, {"max_gap_ms", gap / 2}, {"migrations", 4}, {"schedstat", {{"wait_ns", 1e6}}}}}},
            {"cgroups", {{{"off_cpu_pct", {{"spread", spread}}}}, {{"off_cpu_pct", {{"spread", spread / 3}}}}}}}}};
}

}  // namespace

TEST_CASE("comparison: each metric from a run's result") {
  const auto r = result(100, 50, 80, 9);
  CHECK(metric_of(r, "work_units") == 150);
  CHECK(metric_of(r, "max_gap_ms") == 80);
  CHECK(metric_of(r, "migrations") == 7);
  CHECK(metric_of(r, "wait_ms") == Approx(3));
  CHECK(metric_of(r, "off_cpu_spread") == 9);
  CHECK(metric_of(r, "boot_s") == 4.5);
  CHECK_FALSE(metric_of(nlohmann::json{{"scenario", nullptr}}, "work_units"));  // a run without a scenario
  CHECK_FALSE(metric_of(nlohmann::json("garbage"), "work_units"));
  CHECK_FALSE(metric_of(r, "wake_p50_us"));  // no worker measured wake-ups
  CHECK_FALSE(metric_of(r, "rq_imbalance"));  // no monitor
}

TEST_CASE("comparison: wake-up latency from the measuring workers, run-queue imbalance from the monitor's samples") {
  const auto r = nlohmann::json::parse(R"({
    "scenario": {"workers": [
      {"work_units": 1, "wake_latency_us": {"count": 10, "p50": 40, "p99": 300, "max": 900}},
      {"work_units": 1, "wake_latency_us": null},
      {"work_units": 1, "wake_latency_us": {"count": 10, "p50": 60, "p99": 200, "max": 250}}]},
    "monitor": {"samples": [
      {"cpus": [{"nr_running": 3}, {"nr_running": 1}]},
      {"cpus": [{"nr_running": 1}, {"nr_running": 1}]},
      {"cpus": [{"nr_running": 1}]},
      {"cpus": [{"nr_running": "x"}, {"nr_running": 5}]},
      "garbage"]}})");
  CHECK(metric_of(r, "wake_p50_us") == 50);   // the mean of the p50s
  CHECK(metric_of(r, "wake_p99_us") == 300);  // the worst p99
  // (3-1) and (1-1) and a sample with one readable CPU (5-5); one CPU only is no imbalance.
  CHECK(metric_of(r, "rq_imbalance") == Approx(2.0 / 3));
}

TEST_CASE("comparison: Student's t and Welch's test against known values") {
  CHECK(student_t_two_sided_p(2.228139, 10) == Approx(0.05).margin(1e-5));
  CHECK(student_t_two_sided_p(0, 7) == Approx(1));
  CHECK(student_t_two_sided_p(12.706205, 1) == Approx(0.05).margin(1e-5));
  // (1..5) vs (2..6): t = -1, df = 8, p = 0.3466
  auto w = welch_test({1, 2, 3, 4, 5}, {2, 3, 4, 5, 6});
  REQUIRE(w);
  CHECK(w->t == Approx(-1));
  CHECK(w->df == Approx(8));
  CHECK(w->p == Approx(0.3466).margin(1e-4));
  // Welch on (10,11,12) vs (20,22,24): t = -8.5206, df = 2.9412, p = 0.00366 (the p by
  // integrating Student's density numerically, independently of the incomplete beta)
  w = welch_test({10, 11, 12}, {20, 22, 24});
  REQUIRE(w);
  CHECK(w->t == Approx(-8.5206).margin(1e-3));
  CHECK(w->df == Approx(2.9412).margin(1e-3));
  CHECK(w->p == Approx(0.00366).margin(2e-5));
  CHECK_FALSE(welch_test({1}, {1, 2}));
  CHECK_FALSE(welch_test({3, 3}, {3, 3}));  // no variance: no test
}

TEST_CASE("comparison: ratio, better or worse by each metric's direction, noise is not worse") {
  const auto base = result(100, 100, 50, 3), more = result(150, 150, 100, 3);
  std::vector<ComparisonInput> vms{{"eevdf", {&base}}, {"simple", {&more}}};
  auto c = compare_vms(vms, "eevdf", {"work_units", "max_gap_ms", "off_cpu_spread"}, 10);
  REQUIRE(c.size() == 3);
  CHECK(c[0].metric == "work_units");
  CHECK(c[0].ratio == Approx(1.5));
  CHECK(c[0].verdict == "better");  // more work is better
  CHECK_FALSE(c[0].worse);
  CHECK(c[1].metric == "max_gap_ms");
  CHECK(c[1].verdict == "worse");  // a longer gap is worse
  CHECK(c[1].worse);
  CHECK(c[2].verdict == "same");
  // Three runs each, overlapping: the difference is noise.
  const auto a1 = result(100, 0, 50, 1), a2 = result(120, 0, 50, 1), a3 = result(80, 0, 50, 1);
  const auto b1 = result(90, 0, 50, 1), b2 = result(130, 0, 50, 1), b3 = result(60, 0, 50, 1);
  std::vector<ComparisonInput> rep{{"eevdf", {&a1, &a2, &a3}}, {"simple", {&b1, &b2, &b3}}};
  c = compare_vms(rep, "eevdf", {"work_units"}, 5);
  REQUIRE(c.size() == 1);
  REQUIRE(c[0].welch);
  CHECK_FALSE(c[0].significant);
  CHECK(c[0].verdict == "same (not significant)");
  CHECK_FALSE(c[0].worse);
  CHECK(comparison_json(c[0])["welch"]["p"].get<double>() > 0.05);
}
