// Runs real forked workers on the test machine (no cgroups, no KVM): short runs only.
#include <catch2/catch.hpp>

#include <unistd.h>

#include "workers/worker_context.hpp"
#include "workers/worker_set.hpp"

using namespace ktstr::agent;
using namespace ktstr::protocol;

namespace {

WorkerSpec spec(uint32_t id, WorkType type) {
  WorkerSpec s;
  s.id = id;
  s.name = std::string(to_string(type)) + "." + std::to_string(id);
  s.type = type;
  s.params.sleep_us = 500;
  s.params.burst_ms = 5;
  s.params.idle_ms = 5;
  s.params.work_us = 200;
  s.params.cache_kib = 256;
  return s;
}

std::vector<int> all_cpus() {
  std::vector<int> cpus;
  for (long c = 0; c < ::sysconf(_SC_NPROCESSORS_ONLN); ++c) cpus.push_back(static_cast<int>(c));
  return cpus;
}

/// Runs the batch for run_ms, stops it, returns the reports by launch order.
std::vector<Json> run_batch(const std::vector<WorkerSpec>& batch, int run_ms) {
  WorkerSet set(nullptr, 1000, all_cpus());
  auto idx = set.launch(batch);
  REQUIRE(set.wait_ready(idx, 5'000'000'000).empty());
  int64_t t0 = mono_ns();
  set.release(idx);
  ::usleep(static_cast<useconds_t>(run_ms) * 1000);
  set.stop_and_wait(idx);
  auto ended = set.take_ended();
  CHECK(ended.size() == idx.size());
  std::vector<Json> reports;
  for (auto i : idx) reports.push_back(to_json(AgentEvent{set.report(i, t0)}));
  return reports;
}

void check_sane(const Json& r, int run_ms) {
  INFO(r.dump());
  CHECK(r["exit"] == "ok");
  CHECK(r["work_units"].get<uint64_t>() > 0);
  double wall = r["wall_ms"].get<double>(), cpu = r["cpu_ms"].get<double>(), off = r["off_cpu_ms"].get<double>();
  CHECK(wall >= run_ms * 0.8);
  CHECK(wall <= run_ms + 1000);
  CHECK(cpu >= 0);
  CHECK(cpu <= wall * 1.05 + 5);  // one thread
  CHECK(off >= 0);
  CHECK(off == Approx(std::max(0.0, wall - cpu)).margin(0.2));
  CHECK_FALSE(r["cpus_used"].empty());
  CHECK(r["started_ms"].get<long long>() >= 0);
  CHECK(r["max_gap_ms"].get<double>() >= 0);
  CHECK(r["isolation"]["violations"] == 0);
}

}  // namespace

TEST_CASE("agent workers: every work type makes progress in a forked worker", "[agent][workers]") {
  const WorkType types[] = {WorkType::spin, WorkType::yield, WorkType::mixed, WorkType::sleep, WorkType::bursty,
                            WorkType::cache_pressure, WorkType::fork_churn, WorkType::nice_sweep,
                            WorkType::affinity_churn, WorkType::policy_churn, WorkType::rt_hog};
  for (auto type : types) {
    SECTION(std::string(to_string(type))) {
      auto reports = run_batch({spec(1, type)}, 200);
      check_sane(reports.at(0), 200);
      const auto& r = reports[0];
      if (measures_wake_latency(type)) {
        REQUIRE(r["wake_latency_us"].is_object());
        CHECK(r["wake_latency_us"]["count"].get<uint64_t>() > 0);
        CHECK(r["wake_latency_us"]["p50"] <= r["wake_latency_us"]["max"]);
      } else {
        CHECK(r["wake_latency_us"].is_null());
      }
      if (type != WorkType::sleep && type != WorkType::fork_churn) CHECK(r["cpu_ms"].get<double>() > 0);
      if (type == WorkType::sleep) CHECK(r["off_cpu_ms"].get<double>() > r["cpu_ms"].get<double>());
    }
  }
}

TEST_CASE("agent workers: ping-pong pairs both progress and measure wake latencies", "[agent][workers]") {
  for (auto type : {WorkType::pipe_pingpong, WorkType::futex_pingpong}) {
    SECTION(std::string(to_string(type))) {
      auto a = spec(10, type), b = spec(11, type);
      a.params.partner = 11;
      b.params.partner = 10;
      auto reports = run_batch({a, b}, 200);
      for (const auto& r : reports) {
        check_sane(r, 200);
        INFO(r.dump());
        CHECK(r["work_units"].get<uint64_t>() > 10);
        CHECK(r["wake_latency_us"]["count"].get<uint64_t>() > 10);
      }
      // Strict alternation: the counts differ by at most one turn.
      auto ua = reports[0]["work_units"].get<long long>(), ub = reports[1]["work_units"].get<long long>();
      CHECK(std::abs(ua - ub) <= 1);
    }
  }
}

TEST_CASE("agent workers: a worker that ignores the stop is killed after 2 s and still reported", "[agent][workers]") {
  WorkerSet set(nullptr, 1000, all_cpus());
  auto idx = set.launch({spec(5, WorkType::test_block)});
  REQUIRE(set.wait_ready(idx, 5'000'000'000).empty());
  int64_t t0 = mono_ns();
  set.release(idx);
  ::usleep(50'000);
  int64_t stop = mono_ns();
  set.stop_and_wait(idx);
  double took_s = static_cast<double>(mono_ns() - stop) / 1e9;
  CHECK(took_s >= 1.9);
  CHECK(took_s <= 2.6);
  auto r = to_json(AgentEvent{set.report(idx[0], t0)});
  INFO(r.dump());
  CHECK(r["exit"] == "killed");
  CHECK(r["work_units"] == 1);  // what it had published
  CHECK(r["stopped_ms"].get<long long>() >= 2000);
}

TEST_CASE("agent workers: a setup error is reported, the worker still measures", "[agent][workers]") {
  auto s = spec(6, WorkType::spin);
  s.affinity = std::vector<int>{1000};  // no such CPU
  auto reports = run_batch({s}, 100);
  INFO(reports[0].dump());
  CHECK_THAT(reports[0]["exit"].get<std::string>(), Catch::StartsWith("error: sched_setaffinity"));
  CHECK(reports[0]["work_units"].get<uint64_t>() > 0);
}

TEST_CASE("agent workers: set_affinity from the agent is seen, no violation within the grace", "[agent][workers]") {
  if (::sysconf(_SC_NPROCESSORS_ONLN) < 2) {
    WARN("test not run: needs 2 CPUs");
    return;
  }
  WorkerSet set(nullptr, 1000, all_cpus());
  auto idx = set.launch({spec(8, WorkType::spin)});
  REQUIRE(set.wait_ready(idx, 5'000'000'000).empty());
  int64_t t0 = mono_ns();
  set.release(idx);
  ::usleep(100'000);
  auto* slot = set.at(idx[0]).slot;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(1, &one);
  REQUIRE(::sched_setaffinity(set.at(idx[0]).pid, sizeof one, &one) == 0);
  slot->mask_changed_ns.store(mono_ns());
  slot->mask_gen.fetch_add(1);
  ::usleep(200'000);
  set.stop_and_wait(idx);
  auto r = to_json(AgentEvent{set.report(idx[0], t0)});
  INFO(r.dump());
  CHECK(r["exit"] == "ok");
  CHECK(r["isolation"]["violations"] == 0);
  CHECK(std::find(r["cpus_used"].begin(), r["cpus_used"].end(), 1) != r["cpus_used"].end());
}
