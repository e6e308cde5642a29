// The plan's limits (apps/protocol/plan_limits.hpp) hold on both sides of the wire: the
// host's scenario parser accepts each bound and rejects one beyond it, and every plan the
// host builds, at the bounds and for the whole catalog, is one the agent's parser accepts.
#include <catch2/catch.hpp>

#include <string>

#include "apps/cli/scenario/scenario_catalog.hpp"
#include "apps/cli/scenario/scenario_parser.hpp"
#include "apps/cli/scenario/scenario_plan.hpp"
#include "apps/protocol/plan.hpp"
#include "apps/protocol/plan_limits.hpp"
#include "tests/support/scenario_text.hpp"

using namespace ktstr::cli;
namespace limits = ktstr::protocol;
using ktstr::kvm::Topology;
using ktstr::kvm::TopologySpec;
using Catch::Contains;
using nlohmann::json;

namespace {

const Topology& topology() {
  static const Topology t(TopologySpec{1, 1, 2, 1});
  return t;
}

using ktstr::test::parse_error;

json host_plan(const std::string& text, const std::optional<limits::SchedulerSpec>& scheduler = std::nullopt) {
  return make_plan(parse_scenario(text, "t.toml"), topology(), scheduler);
}

/// The agent's errors for a plan, joined; "" when it accepts it.
std::string agent_errors(const json& plan) {
  auto r = ktstr::protocol::parse_plan(plan.dump());
  std::string out;
  for (const auto& e : r.errors) out += e + "\n";
  if (out.empty() && !r.plan) out = "no plan and no error";
  return out;
}

// One cgroup "a" with one worker group (line 5).
std::string one_group(const std::string& group, const std::string& duration = "\"10s\"") {
  return "name = \"t\"\nduration = " + duration + "\n[[cgroup]]\nname = \"a\"\nworkers = [ { " + group + " } ]\n";
}

/// A worker type that takes the param.
std::string type_taking(std::string_view param) {
  for (auto type : kWorkerTypes)
    for (auto p : params_of(type))
      if (p == param) return std::string(type);
  FAIL("no worker type takes " << param);
  return "";
}

std::string range_text(limits::Range r) { return "(" + std::to_string(r.min) + ".." + std::to_string(r.max) + ")"; }

}  // namespace

TEST_CASE("plan limits: every worker param the host accepts at its bounds, the agent accepts too") {
  for (const auto& [name, range] : limits::kWorkerParams) {
    auto group = "type = \"" + type_taking(name) + "\", " + std::string(name) + " = ";
    INFO(group);
    for (auto v : {range.min, range.max}) {
      auto text = one_group(group + std::to_string(v));
      json plan;
      REQUIRE_NOTHROW(plan = host_plan(text));
      CHECK(plan["workers"][0]["params"][std::string(name)] == v);
      CHECK(agent_errors(plan).empty());
      auto parsed = ktstr::protocol::parse_plan(plan.dump());
      REQUIRE(parsed.plan);
      const auto& p = parsed.plan->workers[0].params;
      uint32_t got = name == "work_us" ? p.work_us : name == "sleep_us" ? p.sleep_us : name == "burst_ms" ? p.burst_ms
                     : name == "idle_ms" ? p.idle_ms : p.cache_kib;
      CHECK(got == v);
    }
    for (auto v : {range.min - 1, range.max + 1}) {
      // The host: one line naming file, line and field.
      CHECK(parse_error(one_group(group + std::to_string(v))) ==
            "t.toml:5: cgroup[0].workers[0]." + std::string(name) + ": " + std::to_string(v) + " is out of range " +
                range_text(range));
      // The agent: the same value in a plan the host built is rejected too.
      auto plan = host_plan(one_group(group + std::to_string(range.max)));
      plan["workers"][0]["params"][std::string(name)] = v;
      CHECK_THAT(agent_errors(plan), Contains(".params." + std::string(name)));
    }
  }
}

TEST_CASE("plan limits: RT priority and nice at their bounds pass host and agent alike") {
  struct Attribute {
    std::string key, group;  // the plan key, and the worker group up to "<key> = "
    limits::Range range;
  };
  for (const auto& [key, group, range] : {Attribute{"priority", "type = \"spin\", policy = \"fifo\", priority = ", limits::kRtPriority},
                                          Attribute{"nice", "type = \"spin\", nice = ", limits::kNice}}) {
    INFO(key);
    for (auto v : {range.min, range.max}) {
      auto plan = host_plan(one_group(group + std::to_string(v)));
      CHECK(plan["workers"][0][key] == v);
      CHECK(agent_errors(plan).empty());
    }
    for (auto v : {range.min - 1, range.max + 1})
      CHECK(parse_error(one_group(group + std::to_string(v))) ==
            "t.toml:5: cgroup[0].workers[0]." + key + ": " + std::to_string(v) + " is out of range " + range_text(range));
  }
}

TEST_CASE("plan limits: run sizes at their bounds pass host and agent alike, one more is a host error") {
  SECTION("duration") {
    auto max_ms = std::to_string(limits::kMaxDurationMs);
    auto plan = host_plan(one_group("type = \"spin\"", "\"" + max_ms + "ms\""));
    CHECK(plan["duration_ms"] == limits::kMaxDurationMs);
    CHECK(agent_errors(plan).empty());
    CHECK_THAT(parse_error(one_group("type = \"spin\"", "\"" + std::to_string(limits::kMaxDurationMs + 1) + "ms\"")),
               Contains("t.toml:2: duration: \"" + std::to_string(limits::kMaxDurationMs + 1) + "ms\" is out of range"));
  }
  SECTION("workers") {
    auto n = std::to_string(limits::kMaxWorkers);
    auto plan = host_plan(one_group("type = \"spin\", count = " + n));
    CHECK(plan["workers"].size() == limits::kMaxWorkers);
    CHECK(agent_errors(plan).empty());
    CHECK(parse_error(one_group("type = \"spin\", count = " + n + " }, { type = \"spin\"")) ==
          "t.toml:1: " + std::to_string(limits::kMaxWorkers + 1) + " workers, at most " + n);
  }
  SECTION("cgroups") {
    auto cgroups = [](uint32_t n) {
      std::string text = "name = \"t\"\nduration = \"10s\"\n";
      for (uint32_t i = 0; i < n; ++i)
        text += "[[cgroup]]\nname = \"c" + std::to_string(i) + "\"\n" + (i == 0 ? "workers = [ { type = \"spin\" } ]\n" : "");
      return text;
    };
    auto plan = host_plan(cgroups(limits::kMaxCgroups));
    CHECK(plan["cgroups"].size() == limits::kMaxCgroups);
    CHECK(agent_errors(plan).empty());
    CHECK(parse_error(cgroups(limits::kMaxCgroups + 1)) ==
          "t.toml:1: " + std::to_string(limits::kMaxCgroups + 1) + " cgroups, at most " + std::to_string(limits::kMaxCgroups));
  }
  SECTION("steps") {
    auto steps = [](uint32_t n) {
      std::string text = one_group("type = \"spin\"");
      for (uint32_t i = 0; i < n; ++i) text += "[[step]]\nhold_s = 0.01\n";
      return text;
    };
    auto plan = host_plan(steps(limits::kMaxSteps));
    CHECK(plan["steps"].size() == limits::kMaxSteps);
    CHECK(agent_errors(plan).empty());
    CHECK_THAT(parse_error(steps(limits::kMaxSteps + 1)),
               Contains("step: " + std::to_string(limits::kMaxSteps + 1) + " steps, at most " + std::to_string(limits::kMaxSteps)));
  }
}

TEST_CASE("plan limits: the plan of every catalog scenario, built by the host, is accepted by the agent") {
  const std::optional<limits::SchedulerSpec> schedulers[] = {std::nullopt, limits::SchedulerSpec{"/ktstr/sched/scx_simple", {"-v"}}};
  for (const auto& entry : builtin_scenarios()) {
    for (auto spec : {TopologySpec{1, 1, 2, 1}, TopologySpec{1, 2, 2, 1}}) {
      Topology t(spec);
      for (const auto& scheduler : schedulers) {
        INFO(entry.name << " on " << spec.to_string() << (scheduler ? " with a scheduler" : ""));
        auto plan = make_plan(resolve_scenario(entry.name), t, scheduler);
        CHECK(agent_errors(plan).empty());
      }
    }
  }
}

TEST_CASE("plan limits: the longest names a file may give make plan strings the agent accepts - one byte more is a host error") {
  const std::string longest(limits::kMaxNameBytes, 'n');
  // 64 LLCs, as many per_llc cgroups as a run may create: suffixes up to "-llc63".
  const Topology wide(TopologySpec{1, 64, 1, 1});
  const std::string text = "name = \"" + longest + "\"\nduration = \"10s\"\n[[cgroup]]\nname = \"" + longest +
                           "\"\nper_llc = true\nworkers = [ { type = \"affinity_churn\", count = 1 } ]\n";
  json plan;
  REQUIRE_NOTHROW(plan = make_plan(parse_scenario(text, "t.toml"), wide, std::nullopt));
  std::size_t longest_string = 0;
  for (const auto& w : plan["workers"]) longest_string = std::max(longest_string, w["name"].get<std::string>().size());
  CHECK(longest_string > limits::kMaxNameBytes + 10);
  CHECK(agent_errors(plan).empty());

  const std::string too_long(limits::kMaxNameBytes + 1, 'n');
  CHECK_THAT(parse_error("name = \"" + too_long + "\"\nduration = \"10s\"\n[[cgroup]]\nname = \"a\"\nworkers = [ { type = \"spin\" } ]\n"),
             Contains("t.toml:1: name: longer than 128 bytes"));
  CHECK_THAT(parse_error("name = \"t\"\nduration = \"10s\"\n[[cgroup]]\nname = \"" + too_long +
                         "\"\nworkers = [ { type = \"spin\" } ]\n"),
             Contains("cgroup name longer than 128 bytes"));
}

TEST_CASE("plan limits: a step of more plan ops than the agent takes is a host error naming the step") {
  auto scenario = [](int ops) {
    std::string text = "name = \"t\"\nduration = \"10s\"\n[[cgroup]]\nname = \"a\"\nworkers = [ { type = \"spin\" } ]\n"
                       "[[step]]\nops = [\n";
    for (int i = 0; i < ops; ++i) text += "  { op = \"set_cpuset\", cgroup = \"a\", cpuset = { fraction = [0.0, 1.0] } },\n";
    return text + "]\n";
  };
  json plan;
  REQUIRE_NOTHROW(plan = host_plan(scenario(static_cast<int>(limits::kMaxOpsPerStep))));
  CHECK(agent_errors(plan).empty());
  try {
    host_plan(scenario(static_cast<int>(limits::kMaxOpsPerStep) + 1));
    FAIL("257 ops in one step were accepted");
  } catch (const ScenarioError& e) {
    CHECK_THAT(std::string(e.what()), Contains("t.toml:6") && Contains("257 plan ops, at most 256"));
  }
}
