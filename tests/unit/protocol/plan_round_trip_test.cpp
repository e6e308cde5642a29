// One plan format on both sides of the wire (apps/protocol/plan.hpp): every plan the host
// builds, written by protocol::to_json and read by the agent's parser, is the same Plan;
// and so is every random plan within the limits (plan_limits.hpp).
#include <catch2/catch.hpp>

#include <random>
#include <string>

#include "apps/cli/scenario/scenario_catalog.hpp"
#include "apps/cli/scenario/scenario_plan.hpp"
#include "apps/protocol/plan.hpp"
#include "apps/protocol/plan_limits.hpp"

namespace protocol = ktstr::protocol;
using ktstr::kvm::Topology;
using ktstr::kvm::TopologySpec;

namespace {

std::string errors_of(const protocol::PlanResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e + "\n";
  return out;
}

/// Writes `plan`, parses it back as the agent does, and checks both directions.
void check_round_trip(const protocol::Plan& plan) {
  const nlohmann::json written = protocol::to_json(plan);
  const protocol::PlanResult parsed = protocol::parse_plan(written.dump());
  INFO(errors_of(parsed));
  REQUIRE(parsed.plan);
  CHECK(*parsed.plan == plan);
  CHECK(protocol::to_json(*parsed.plan) == written);
}

}  // namespace

TEST_CASE("every catalog scenario's plan reads back as the same structure in the agent's parser") {
  const std::optional<protocol::SchedulerSpec> schedulers[] = {
      std::nullopt, protocol::SchedulerSpec{"/ktstr/sched/scx_simple", {"-v", "--slice=5000"}, 10000}};
  for (const auto& entry : ktstr::cli::builtin_scenarios())
    for (auto spec : {TopologySpec{1, 1, 2, 1}, TopologySpec{1, 2, 2, 1}, TopologySpec{2, 2, 2, 2}})
      for (const auto& scheduler : schedulers) {
        INFO(entry.name << " on " << spec.to_string() << (scheduler ? " with a scheduler" : ""));
        check_round_trip(ktstr::cli::build_plan(ktstr::cli::resolve_scenario(entry.name), Topology(spec), scheduler));
      }
}

namespace {

/// Random plans that pass every check of parse_plan: ids unique and in order, ping-pong
/// workers in started-together pairs naming each other, steps sorted inside the run, every
/// op naming cgroups and workers that exist.
class RandomPlan {
 public:
  explicit RandomPlan(uint32_t seed) : rng_(seed) {}

  protocol::Plan make() {
    protocol::Plan p;
    p.name = "random-" + std::to_string(pick(0, 1'000'000));
    p.duration_ms = static_cast<uint64_t>(pick(1000, protocol::kMaxDurationMs));
    for (int cpu = pick(0, 2), n = pick(1, 8); n > 0; --n, cpu += pick(1, 3)) p.usable_cpus.push_back(cpu);
    p.checkpoint_us = static_cast<uint32_t>(pick(protocol::kCheckpointUs.min, protocol::kCheckpointUs.max));
    for (int i = pick(0, 4); i > 0; --i) p.cgroups.push_back({next_cgroup(), cpus()});
    p.workers = workers(0, pick(0, 6));
    uint64_t at = 0;
    for (int i = pick(0, 4); i > 0; --i) {
      at += static_cast<uint64_t>(pick(0, static_cast<int64_t>((p.duration_ms - 1 - at) / 2)));
      p.steps.push_back({at, ops(at)});
    }
    if (coin()) {
      protocol::SchedulerSpec s{"/ktstr/sched/scx_" + std::to_string(pick(0, 99)), {}, 0};
      for (int i = pick(0, 3); i > 0; --i) s.args.push_back("--arg" + std::to_string(pick(0, 9)));
      s.enable_timeout_ms = static_cast<uint64_t>(
          pick(protocol::kSchedulerEnableTimeoutMs.min, protocol::kSchedulerEnableTimeoutMs.max));
      p.scheduler = s;
    }
    if (coin()) p.rt_runtime_us = pick(-1, 950000);
    for (int i = pick(0, 3); i > 0; --i) {
      protocol::PayloadSpec payload;
      payload.id = static_cast<uint32_t>(p.payloads.size());
      payload.name = "payload-" + std::to_string(pick(0, 99));
      payload.path = "/ktstr/payload/" + std::to_string(payload.id) + "/hackbench";
      for (int a = pick(0, 4); a > 0; --a) payload.args.push_back(std::to_string(pick(-5, 500)));
      if (!cgroups_.empty() && coin()) payload.cgroup = cgroups_[static_cast<size_t>(pick(0, cgroups_.size() - 1))];
      payload.start_ms = static_cast<uint64_t>(pick(0, static_cast<int64_t>(p.duration_ms)));
      p.payloads.push_back(std::move(payload));
    }
    p.end_with_payloads = !p.payloads.empty() && coin();
    return p;
  }

 private:
  int64_t pick(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng_); }
  bool coin() { return pick(0, 1) == 1; }

  std::optional<std::vector<int>> cpus() {
    if (coin()) return std::nullopt;
    std::vector<int> out;
    for (int cpu = pick(0, 4), n = pick(1, 4); n > 0; --n, cpu += pick(1, 5)) out.push_back(cpu);
    return out;
  }

  std::string next_cgroup() {
    cgroups_.push_back("workload/g" + std::to_string(cgroups_.size()));
    return cgroups_.back();
  }

  protocol::WorkerSpec worker(uint64_t start_ms) {
    protocol::WorkerSpec w;
    w.id = next_id_++;
    w.name = "w." + std::to_string(w.id);
    if (!cgroups_.empty() && coin()) w.cgroup = cgroups_[static_cast<size_t>(pick(0, cgroups_.size() - 1))];
    static constexpr protocol::WorkType plain[] = {
        protocol::WorkType::spin,           protocol::WorkType::yield,         protocol::WorkType::mixed,
        protocol::WorkType::sleep,          protocol::WorkType::bursty,        protocol::WorkType::cache_pressure,
        protocol::WorkType::fork_churn,     protocol::WorkType::nice_sweep,    protocol::WorkType::affinity_churn,
        protocol::WorkType::policy_churn,   protocol::WorkType::rt_hog};
    w.type = plain[pick(0, std::size(plain) - 1)];
    static constexpr protocol::Policy policies[] = {protocol::Policy::normal, protocol::Policy::batch,
                                                    protocol::Policy::idle, protocol::Policy::fifo,
                                                    protocol::Policy::rr};
    w.policy = policies[pick(0, 4)];
    const bool rt = w.policy == protocol::Policy::fifo || w.policy == protocol::Policy::rr;
    w.priority = rt ? static_cast<int>(pick(protocol::kRtPriority.min, protocol::kRtPriority.max)) : 0;
    w.nice = static_cast<int>(pick(protocol::kNice.min, protocol::kNice.max));
    w.affinity = cpus();
    w.start_ms = start_ms;
    auto param = [&](const char* name) {
      const auto& r = protocol::param_limit(name)->range;
      return static_cast<uint32_t>(pick(r.min, r.max));
    };
    w.params.work_us = param("work_us");
    w.params.sleep_us = param("sleep_us");
    w.params.burst_ms = param("burst_ms");
    w.params.idle_ms = param("idle_ms");
    w.params.cache_kib = param("cache_kib");
    return w;
  }

  /// `count` workers, some of them ping-pong pairs, all starting at `start_ms`.
  std::vector<protocol::WorkerSpec> workers(uint64_t start_ms, int64_t count) {
    std::vector<protocol::WorkerSpec> out;
    for (int64_t i = 0; i < count; ++i) {
      if (coin()) {
        out.push_back(worker(start_ms));
        continue;
      }
      auto a = worker(start_ms), b = worker(start_ms);
      a.type = b.type = coin() ? protocol::WorkType::pipe_pingpong : protocol::WorkType::futex_pingpong;
      a.params.partner = b.id;
      b.params.partner = a.id;
      out.push_back(a);
      out.push_back(b);
    }
    for (const auto& w : out) ids_.push_back(w.id);
    return out;
  }

  std::vector<protocol::Op> ops(uint64_t at) {
    std::vector<protocol::Op> out;
    for (int i = pick(1, 5); i > 0; --i) {
      protocol::Op op;
      op.kind = static_cast<protocol::Op::Kind>(pick(0, 7));
      using K = protocol::Op::Kind;
      const bool needs_cgroup = op.kind == K::set_cpuset || op.kind == K::clear_cpuset ||
                                op.kind == K::remove_cgroup || op.kind == K::move_tasks;
      const bool needs_worker = op.kind == K::stop || op.kind == K::set_affinity;
      if ((needs_cgroup && cgroups_.empty()) || (needs_worker && ids_.empty())) op.kind = K::add_cgroup;
      auto some_cgroup = [&] { return cgroups_[static_cast<size_t>(pick(0, cgroups_.size() - 1))]; };
      switch (op.kind) {
        case K::add_cgroup:
          op.cgroup = next_cgroup();
          op.cpus = cpus();
          break;
        case K::set_cpuset:
          op.cgroup = some_cgroup();
          op.cpus = cpus().value_or(std::vector<int>{0});
          break;
        case K::clear_cpuset:
        case K::remove_cgroup:
          op.cgroup = some_cgroup();
          break;
        case K::spawn:
          op.spawn = workers(at, pick(1, 3));
          break;
        case K::stop:
        case K::set_affinity:
          for (int n = pick(1, 3); n > 0; --n) op.workers.push_back(ids_[static_cast<size_t>(pick(0, ids_.size() - 1))]);
          if (op.kind == K::set_affinity) op.cpus = cpus().value_or(std::vector<int>{1});
          break;
        case K::move_tasks:
          op.from = some_cgroup();
          op.to = some_cgroup();
          break;
      }
      out.push_back(std::move(op));
    }
    return out;
  }

  std::mt19937 rng_;
  uint32_t next_id_ = 0;
  std::vector<std::string> cgroups_;
  std::vector<uint32_t> ids_;
};

}  // namespace

TEST_CASE("random plans within the limits survive the round trip unchanged") {
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    INFO("seed " << seed);
    check_round_trip(RandomPlan(seed).make());
  }
}
