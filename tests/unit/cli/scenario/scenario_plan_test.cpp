#include <catch2/catch.hpp>

#include <set>

#include "apps/cli/scenario/scenario_catalog.hpp"
#include "apps/cli/scenario/scenario_parser.hpp"
#include "apps/cli/scenario/scenario_plan.hpp"

using namespace ktstr::cli;
namespace protocol = ktstr::protocol;
using ktstr::kvm::Topology;
using Catch::Contains;
using Catch::StartsWith;
using nlohmann::json;
using Cpus = std::vector<uint32_t>;

namespace {

json plan_of(const std::string& text, const Topology& t) {
  return make_plan(parse_scenario(text, "t.toml"), t, std::nullopt);
}

std::string plan_error(const std::string& text, const Topology& t) {
  try {
    plan_of(text, t);
  } catch (const ScenarioError& e) {
    return e.what();
  }
  return "";
}

// A scenario with one cgroup "a" of one spin worker and the given cpuset (line 5).
std::string with_cpuset(const std::string& spec, const std::string& extra = "") {
  return "name = \"t\"\nduration = \"10s\"\n" + extra + "[[cgroup]]\nname = \"a\"\ncpuset = " + spec +
         "\nworkers = [ { type = \"spin\" } ]\n";
}

Cpus cpus_of(const std::string& spec, const Topology& t, const std::string& extra = "") {
  return plan_of(with_cpuset(spec, extra), t)["cgroups"][0]["cpus"].get<Cpus>();
}

// Every worker object of a plan: initial ones and those of spawn ops.
std::vector<json> all_workers(const json& plan) {
  std::vector<json> out(plan["workers"].begin(), plan["workers"].end());
  for (const auto& step : plan["steps"])
    for (const auto& op : step["ops"])
      if (op["op"] == "spawn")
        for (const auto& w : op["workers"]) out.push_back(w);
  return out;
}

}  // namespace

TEST_CASE("every built-in scenario plans on 1,1,2,1 and 1,2,2,1 as the protocol says") {
  const auto& catalog = builtin_scenarios();
  REQUIRE(catalog.size() >= 13);
  std::set<std::string> names;
  for (const auto& entry : catalog) {
    names.insert(entry.name);
    CHECK_FALSE(entry.description.empty());
    for (auto spec : {ktstr::kvm::TopologySpec{1, 1, 2, 1}, ktstr::kvm::TopologySpec{1, 2, 2, 1}}) {
      Topology t(spec);
      INFO(entry.name << " on " << spec.to_string());
      json plan;
      REQUIRE_NOTHROW(plan = make_plan(resolve_scenario(entry.name), t, std::nullopt));
      CHECK(plan["version"] == 1);
      CHECK(plan["name"] == entry.name);
      CHECK(plan["checkpoint_us"] == 1000);
      CHECK(plan["scheduler"].is_null());
      uint64_t duration = plan["duration_ms"];
      CHECK(duration >= 5000);
      CHECK(duration <= 10000);
      CHECK(plan["usable_cpus"].size() == t.cpu_count());
      for (const auto& c : plan["cgroups"]) CHECK_THAT(c["path"].get<std::string>(), StartsWith("workload/"));
      uint64_t last = 0;
      for (const auto& step : plan["steps"]) {
        CHECK(step["at_ms"] >= last);
        last = step["at_ms"];
        CHECK(last < duration);
      }
      auto workers = all_workers(plan);
      for (size_t i = 0; i < workers.size(); ++i) {
        CHECK(workers[i]["id"] == i);  // unique across the run, in order
        for (auto key : {"name", "cgroup", "type", "policy", "priority", "nice", "affinity", "start_ms", "params"})
          CHECK(workers[i].contains(key));
      }
    }
  }
  CHECK(names.size() == catalog.size());
  for (auto required : {"steady", "steady-llc", "oversubscribed", "cpuset-apply", "cpuset-clear", "cpuset-resize",
                        "cgroup-add-remove", "affinity-change", "host-contention", "mixed", "nested-cgroups",
                        "rt-starvation", "pingpong"})
    CHECK(names.count(required) == 1);
}

TEST_CASE("catalog spot checks") {
  Topology two({1, 1, 2, 1}), four({1, 2, 2, 1});

  SECTION("steady-llc: one cgroup per LLC") {
    auto plan = make_plan(resolve_scenario("steady-llc"), four, std::nullopt);
    CHECK(plan["cgroups"] == json::parse(R"([{"path":"workload/cache-llc0","cpus":[0,1]},
                                              {"path":"workload/cache-llc1","cpus":[2,3]}])"));
    CHECK(plan["workers"].size() == 4);
    CHECK(plan["workers"][2]["name"] == "cache-llc1.spin.0");
    CHECK(make_plan(resolve_scenario("steady-llc"), two, std::nullopt)["cgroups"].size() == 1);
  }
  SECTION("rt-starvation: pinned FIFO hog, RT throttling off") {
    auto plan = make_plan(resolve_scenario("rt-starvation"), two, std::nullopt);
    CHECK(plan["rt_runtime_us"] == -1);
    const auto& hog = plan["workers"][1];
    CHECK(hog["type"] == "rt_hog");
    CHECK(hog["policy"] == "fifo");
    CHECK(hog["priority"] == 50);
    CHECK(hog["affinity"] == json::array({1}));
    CHECK(plan["workers"][0]["affinity"] == json::array({1}));
    CHECK(builtin_scenarios().size() > 0);
    for (const auto& e : builtin_scenarios())
      if (e.name == "rt-starvation") CHECK(e.expect == ExpectedVerdict::fail);
  }
  SECTION("pingpong: partners pair 2k and 2k+1") {
    auto plan = make_plan(resolve_scenario("pingpong"), four, std::nullopt);
    CHECK(plan["workers"][0]["params"]["partner"] == 1);
    CHECK(plan["workers"][1]["params"]["partner"] == 0);
    // Every param is written (protocol::to_json): what the scenario left out is the default.
    CHECK(plan["workers"][2]["params"] ==
          json::parse(R"({"partner":3,"work_us":50,"sleep_us":1000,"burst_ms":10,"idle_ms":10,"cache_kib":1024})"));
    CHECK(plan["workers"][3]["params"]["partner"] == 2);
    CHECK(plan["workers"][4]["params"] ==
          json::parse(R"({"work_us":1000,"sleep_us":1000,"burst_ms":10,"idle_ms":10,"cache_kib":1024})"));
  }
  SECTION("cgroup-add-remove: add + spawn at the step's time, remove later") {
    auto plan = make_plan(resolve_scenario("cgroup-add-remove"), four, std::nullopt);
    const auto& steps = plan["steps"];
    REQUIRE(steps.size() == 3);
    CHECK(steps[0]["at_ms"] == 0);
    CHECK(steps[0]["ops"].empty());
    CHECK(steps[1]["at_ms"] == 2970);
    CHECK(steps[1]["ops"][0] == json::parse(R"({"op":"add_cgroup","cgroup":"workload/guest","cpus":[2,3]})"));
    const auto& spawned = steps[1]["ops"][1]["workers"];
    CHECK(spawned.size() == 4);
    CHECK(spawned[0]["id"] == 2);
    CHECK(spawned[0]["start_ms"] == 2970);
    CHECK(spawned[2]["name"] == "guest.sleep.0");
    CHECK(spawned[2]["params"]["sleep_us"] == 500);
    CHECK(steps[2]["at_ms"] == 6030);
    CHECK(steps[2]["ops"][0] == json::parse(R"({"op":"remove_cgroup","cgroup":"workload/guest"})"));
  }
  SECTION("affinity-change: the last usable CPU, then all") {
    auto plan = make_plan(resolve_scenario("affinity-change"), four, std::nullopt);
    CHECK(plan["steps"][1]["ops"][0] == json::parse(R"({"op":"set_affinity","workers":[0,1],"cpus":[3]})"));
    CHECK(plan["steps"][2]["ops"][0]["cpus"] == json::array({0, 1, 2, 3}));
  }
  SECTION("nested-cgroups: parents first, move_tasks paths") {
    auto plan = make_plan(resolve_scenario("nested-cgroups"), two, std::nullopt);
    CHECK(plan["cgroups"][0] == json::parse(R"({"path":"workload/outer","cpus":null})"));
    CHECK(plan["cgroups"][3]["path"] == "workload/outer/right/deep");
    CHECK(plan["steps"][1]["ops"][0] ==
          json::parse(R"({"op":"move_tasks","from":"workload/outer/right/deep","to":"workload/outer/left"})"));
  }
}

TEST_CASE("scheduler and resolve_scenario") {
  Topology two({1, 1, 2, 1});
  auto plan = make_plan(resolve_scenario("steady"), two, protocol::SchedulerSpec{"/ktstr/sched/scx_simple", {"-v"}, 5000});
  CHECK(plan["scheduler"] == json::parse(R"({"path":"/ktstr/sched/scx_simple","args":["-v"],"enable_timeout_ms":5000})"));
  CHECK_FALSE(plan.contains("rt_runtime_us"));
  CHECK_THROWS_WITH(resolve_scenario("nope"), StartsWith("scenario \"nope\": neither a built-in scenario (affinity-change, "));
  CHECK_THROWS_WITH(resolve_scenario("/nonexistent/nope.toml"), Contains("scenario file /nonexistent/nope.toml: no such file"));
}

TEST_CASE("cpuset specs resolve against the usable CPUs") {
  Topology two({1, 1, 2, 1}), four({1, 2, 2, 1}), eight({2, 4, 2, 1});
  CHECK(cpus_of(R"({ cpus = "0-1,3" })", four) == Cpus{0, 1, 3});
  CHECK(cpus_of("{ fraction = [0.0, 0.5] }", two) == Cpus{0});
  CHECK(cpus_of("{ fraction = [0.5, 1.0] }", two) == Cpus{1});
  CHECK(cpus_of("{ fraction = [0.0, 0.5] }", four) == Cpus{0, 1});
  CHECK(cpus_of("{ fraction = [0.25, 0.75] }", four) == Cpus{1, 2});
  CHECK(cpus_of("{ fraction = [0.99, 1.0] }", four) == Cpus{3});  // below one CPU: the CPU at its start
  CHECK(cpus_of("{ fraction = [0, 0.1] }", two) == Cpus{0});
  CHECK(cpus_of("{ fraction = [0.0, 0.5] }", four, "reserve_cpus = 1\n") == Cpus{1, 2});  // 3 usable: 0..1.5 -> 2
  CHECK(cpus_of("{ fraction = [0.5, 1.0] }", four, "reserve_cpus = 1\n") == Cpus{3});
  CHECK(cpus_of("{ llc = 1 }", four) == Cpus{2, 3});
  CHECK(cpus_of("{ llcs = [0, 3] }", eight) == Cpus{0, 1, 6, 7});
  CHECK(cpus_of("{ node = 1 }", eight) == Cpus{4, 5, 6, 7});
  CHECK(cpus_of("{ nodes = [0, 1] }", eight) == Cpus{0, 1, 2, 3, 4, 5, 6, 7});
  CHECK(cpus_of("{ llc = 0 }", four, "reserve_cpus = 1\n") == Cpus{1});
  CHECK(plan_of(with_cpuset("{ llc = 0 }", "reserve_cpus = 1\n"), four)["usable_cpus"] == json::array({1, 2, 3}));
}

TEST_CASE("plan-time errors name file, line and field") {
  Topology two({1, 1, 2, 1}), four({1, 2, 2, 1});
  CHECK(plan_error(with_cpuset("{ llc = 3 }"), four) ==
        "t.toml:5: cgroup[0].cpuset: LLC 3 does not exist (topology 1,2,2,1 has LLCs 0-1)");
  CHECK(plan_error(with_cpuset("{ llc = 1 }"), two) ==
        "t.toml:5: cgroup[0].cpuset: LLC 1 does not exist (topology 1,1,2,1 has LLCs 0)");
  CHECK(plan_error(with_cpuset("{ node = 1 }"), four) ==
        "t.toml:5: cgroup[0].cpuset: node 1 does not exist (topology 1,2,2,1 has nodes 0)");
  CHECK(plan_error(with_cpuset(R"({ cpus = "4" })"), four) ==
        "t.toml:5: cgroup[0].cpuset: CPU 4 does not exist (topology 1,2,2,1 has CPUs 0-3)");
  CHECK(plan_error(with_cpuset("{ llc = 0 }", "reserve_cpus = 2\n"), four) ==
        "t.toml:6: cgroup[0].cpuset: { llc = 0 } for cgroup a resolves to no usable CPU (usable: 2-3)");
  CHECK(plan_error(with_cpuset("{ llc = 0 }", "reserve_cpus = 4\n"), four) ==
        "t.toml:3: reserve_cpus: reserving 4 CPUs leaves none of the 4 guest CPUs for the workers");

  SECTION("pinned RT worker on a reserved CPU") {
    CHECK(plan_error("name = \"t\"\nduration = \"5s\"\nreserve_cpus = 1\n[[cgroup]]\nname = \"a\"\n"
                     "workers = [ { type = \"rt_hog\", affinity = { cpus = \"0\" } } ]\n",
                     two) ==
          "t.toml:6: cgroup[0].workers[0].affinity: CPU 0 is reserved (reserve_cpus keeps it out of the usable CPUs)");
  }
  SECTION("workers in a cgroup with children") {
    CHECK_THAT(plan_error("name = \"t\"\nduration = \"5s\"\n[[cgroup]]\nname = \"a\"\nworkers = [ { type = \"spin\" } ]\n"
                          "[[cgroup]]\nname = \"a/b\"\n",
                          two),
               StartsWith("t.toml:6: cgroup[1]: parent cgroup \"a\" has workers"));
  }
  SECTION("stop with nothing left to stop") {
    CHECK_THAT(plan_error("name = \"t\"\nduration = \"5s\"\n[[cgroup]]\nname = \"a\"\nworkers = [ { type = \"spin\" } ]\n"
                          "[[step]]\nops = [ { op = \"stop\", cgroup = \"a\", type = \"sleep\" } ]\n",
                          two),
               StartsWith("t.toml:7: step[0].ops[0].type: no running sleep workers in cgroup \"a\""));
  }
}

TEST_CASE("worker ids stay unique across spawns, moves and stops") {
  Topology two({1, 1, 2, 1});
  auto plan = plan_of(R"(name = "t"
duration = "10s"
[[cgroup]]
name = "a"
workers = [ { type = "spin", count = 2 } ]
[[cgroup]]
name = "b"
[[step]]
ops = [ { op = "spawn", cgroup = "a", workers = [ { type = "futex_pingpong", count = 2 } ] } ]
hold = 0.2
[[step]]
ops = [ { op = "move_tasks", from = "a", to = "b" }, { op = "stop", cgroup = "b", type = "spin" } ]
hold = 0.2
[[step]]
ops = [ { op = "set_affinity", cgroup = "b", cpuset = { cpus = "1" } }, { op = "spawn", cgroup = "a", workers = [ { type = "spin" } ] } ]
)",
                      two);
  const auto& steps = plan["steps"];
  CHECK(steps[0]["ops"][0]["workers"][1] ==
        json::parse(R"({"id":3,"name":"a.futex_pingpong.1","cgroup":"workload/a","type":"futex_pingpong",
                        "policy":"normal","priority":0,"nice":0,"affinity":null,"start_ms":0,
                        "params":{"partner":2,"work_us":1000,"sleep_us":1000,"burst_ms":10,"idle_ms":10,"cache_kib":1024}})"));
  CHECK(steps[1]["at_ms"] == 2000);
  CHECK(steps[1]["ops"][1] == json::parse(R"({"op":"stop","workers":[0,1]})"));
  CHECK(steps[2]["ops"][0] == json::parse(R"({"op":"set_affinity","workers":[2,3],"cpus":[1]})"));
  CHECK(steps[2]["ops"][1]["workers"][0]["id"] == 4);
  CHECK(steps[2]["ops"][1]["workers"][0]["name"] == "a.spin.2");
  CHECK(steps[2]["ops"][1]["workers"][0]["start_ms"] == 4000);
}
