#include <catch2/catch.hpp>

#include "apps/cli/scenario/scenario_parser.hpp"
#include "apps/cli/scenario/scenario_plan.hpp"
#include "tests/support/scenario_text.hpp"

using namespace ktstr::cli;
using Catch::Contains;
using Catch::StartsWith;

namespace {

using ktstr::test::parse_error;

const char* kHeader = "name = \"t\"\nduration = \"10s\"\n";  // lines 1-2

}  // namespace

TEST_CASE("a full scenario parses into the model") {
  auto s = parse_scenario(R"(name = "cpuset-resize"
description = "resize"
duration = "10s"
expect = "inconclusive"
reserve_cpus = 1
rt_throttle = false
[assert]
max_gap_ms = 500
fairness_spread_pct = 20
throughput_spread_pct = 30
starvation = false
predicted_stall_pct = 80
imbalance_ms = 1500
[[cgroup]]
name = "a"
cpuset = { fraction = [0.0, 0.5] }
workers = [ { type = "spin", count = 2 }, { type = "sleep", count = 1, nice = 5, sleep_us = 500 } ]
[[cgroup]]
name = "a/inner"
[[step]]
ops = [ { op = "set_cpuset", cgroup = "a", cpuset = { llcs = [1, 0] } } ]
hold = 0.25
[[step]]
ops = [ { op = "stop", cgroup = "a", type = "sleep" } ]
hold_s = 2.5
[[step]]
ops = [ { op = "clear_cpuset", cgroup = "a" } ]
)",
                          "f.toml");
  CHECK(s.name == "cpuset-resize");
  CHECK(s.duration_ms == 10000);
  CHECK(s.expect == ExpectedVerdict::inconclusive);
  CHECK(s.reserve_cpus == 1);
  CHECK_FALSE(s.rt_throttle);
  CHECK(s.thresholds.max_gap_ms == 500);
  CHECK(s.thresholds.fairness_spread_pct == 20);
  CHECK(s.thresholds.throughput_spread_pct == 30);
  CHECK(s.thresholds.predicted_stall_pct == 80);
  CHECK(s.thresholds.imbalance_ms == 1500);
  CHECK(s.thresholds.rq_clock_stuck_ms == 2000);  // not given: the default
  CHECK_FALSE(s.thresholds.starvation);
  CHECK(s.thresholds.isolation);
  REQUIRE(s.cgroups.size() == 2);
  CHECK(s.cgroups[0].cpuset->kind == CpusetSpec::Kind::fraction);
  CHECK(s.cgroups[0].cpuset->to == 0.5);
  CHECK(s.cgroups[0].workers[1].nice == 5);
  CHECK(s.cgroups[0].workers[1].params[0].name == "sleep_us");
  CHECK(s.cgroups[0].workers[1].where.line == 17);
  REQUIRE(s.steps.size() == 3);
  CHECK(s.steps[0].at_ms == 0);
  CHECK(s.steps[1].at_ms == 2500);
  CHECK(s.steps[2].at_ms == 5000);
  CHECK(s.steps[0].ops[0].cpuset->ids == std::vector<uint32_t>{0, 1});
  CHECK(s.steps[1].ops[0].worker_type == "sleep");
}

TEST_CASE("durations: string with unit or duration_s") {
  CHECK(parse_duration_ms("10s") == 10000u);
  CHECK(parse_duration_ms("500ms") == 500u);
  CHECK(parse_duration_ms("1.5m") == 90000u);
  CHECK_FALSE(parse_duration_ms("10"));
  CHECK_FALSE(parse_duration_ms("s"));
  CHECK_FALSE(parse_duration_ms("10h"));
  auto s = parse_scenario("name = \"t\"\nduration_s = 2.5\n[[cgroup]]\nname = \"a\"\nworkers = [{ type = \"spin\" }]\n", "x");
  CHECK(s.duration_ms == 2500);
}

TEST_CASE("each kind of bad file names file, line and field") {
  std::string body = "[[cgroup]]\nname = \"a\"\nworkers = [ { type = \"spin\", count = 2 } ]\n";  // lines 3-5

  SECTION("syntax error") {
    CHECK_THAT(parse_error("name = \"t\"\nduration = \n"), StartsWith("t.toml:2: syntax: "));
  }
  SECTION("unknown top-level key") {
    CHECK_THAT(parse_error(kHeader + std::string("durration = 3\n") + body),
               StartsWith("t.toml:3: durration: unknown key (expected one of: name, description"));
  }
  SECTION("unknown key in a worker group") {
    CHECK_THAT(parse_error(std::string(kHeader) + "[[cgroup]]\nname = \"a\"\nworkers = [ { type = \"spin\", cuont = 2 } ]\n"),
               StartsWith("t.toml:5: cgroup[0].workers[0].cuont: unknown key"));
  }
  SECTION("bad type") {
    CHECK(parse_error(std::string(kHeader) + "[[cgroup]]\nname = \"a\"\nworkers = [ { type = \"spin\", count = \"2\" } ]\n") ==
          "t.toml:5: cgroup[0].workers[0].count: expected an integer, got a string");
  }
  SECTION("unknown worker type") {
    CHECK_THAT(parse_error(std::string(kHeader) + "[[cgroup]]\nname = \"a\"\nworkers = [ { type = \"spinn\" } ]\n"),
               StartsWith("t.toml:5: cgroup[0].workers[0].type: unknown worker type \"spinn\""));
  }
  SECTION("count out of range") {
    CHECK(parse_error(std::string(kHeader) + "[[cgroup]]\nname = \"a\"\nworkers = [ { type = \"spin\", count = 0 } ]\n") ==
          "t.toml:5: cgroup[0].workers[0].count: 0 is out of range (1..512)");
  }
  SECTION("nice out of range") {
    CHECK(parse_error(std::string(kHeader) + "[[cgroup]]\nname = \"a\"\nworkers = [ { type = \"spin\", nice = 20 } ]\n") ==
          "t.toml:5: cgroup[0].workers[0].nice: 20 is out of range (-20..19)");
  }
  SECTION("priority out of range") {
    CHECK(parse_error(std::string(kHeader) +
                      "[[cgroup]]\nname = \"a\"\nworkers = [ { type = \"spin\", policy = \"fifo\", priority = 100 } ]\n") ==
          "t.toml:5: cgroup[0].workers[0].priority: 100 is out of range (1..99)");
  }
  SECTION("priority with the normal policy") {
    CHECK(parse_error(std::string(kHeader) + "[[cgroup]]\nname = \"a\"\nworkers = [ { type = \"spin\", priority = 10 } ]\n") ==
          "t.toml:5: cgroup[0].workers[0].priority: only for policy fifo or rr (policy is normal)");
  }
  SECTION("a param the type does not use") {
    CHECK_THAT(parse_error(std::string(kHeader) + "[[cgroup]]\nname = \"a\"\nworkers = [ { type = \"spin\", sleep_us = 5 } ]\n"),
               StartsWith("t.toml:5: cgroup[0].workers[0].sleep_us: not used by worker type spin"));
  }
  SECTION("undeclared parent cgroup") {
    CHECK(parse_error(kHeader + body + "[[cgroup]]\nname = \"b/c\"\n") ==
          "t.toml:7: cgroup[1].name: parent cgroup \"b\" is not declared before \"b/c\"");
  }
  SECTION("bad cgroup name") {
    CHECK_THAT(parse_error(kHeader + body + "[[cgroup]]\nname = \"a//b\"\n"),
               StartsWith("t.toml:7: cgroup[1].name: \"a//b\" is not a cgroup name"));
  }
  SECTION("step referencing an unknown cgroup") {
    CHECK_THAT(parse_error(kHeader + body + "[[step]]\nops = [ { op = \"clear_cpuset\", cgroup = \"b\" } ]\n"),
               StartsWith("t.toml:7: step[0].ops[0].cgroup: unknown cgroup \"b\""));
  }
  SECTION("step referencing a removed cgroup") {
    CHECK_THAT(parse_error(kHeader + body + "[[step]]\nops = [ { op = \"remove_cgroup\", cgroup = \"a\" } ]\nhold = 0.1\n" +
                           "[[step]]\nops = [\n  { op = \"spawn\", cgroup = \"a\", workers = [ { type = \"spin\" } ] },\n]\n"),
               StartsWith("t.toml:11: step[1].ops[0].cgroup: unknown cgroup \"a\""));
  }
  SECTION("unknown op") {
    CHECK_THAT(parse_error(kHeader + body + "[[step]]\nops = [ { op = \"resize\", cgroup = \"a\" } ]\n"),
               StartsWith("t.toml:7: step[0].ops[0].op: unknown op \"resize\""));
  }
  SECTION("holds exceeding the duration") {
    CHECK(parse_error(kHeader + body + "[[step]]\nhold = 0.6\n[[step]]\nhold_s = 5\n[[step]]\nops = []\nhold = 0.1\n") ==
          "t.toml:9: step[1].hold_s: the holds so far add up to 11000 ms, more than the duration (10000 ms)");
  }
  SECTION("a step starting at the end") {
    CHECK_THAT(parse_error(kHeader + body + "[[step]]\nhold = 1.0\n[[step]]\nops = [ { op = \"clear_cpuset\", cgroup = \"a\" } ]\n"),
               StartsWith("t.toml:8: step[1]: starts at 10000 ms, not before the end"));
  }
  SECTION("unknown key in a cgroup") {
    CHECK_THAT(parse_error(kHeader + body + "cpus = 3\n"), StartsWith("t.toml:6: cgroup[0].cpus: unknown key"));
  }
  SECTION("duration out of range") {
    CHECK(parse_error("name = \"t\"\nduration = \"61m\"\n" + body) ==
          "t.toml:2: duration: \"61m\" is out of range (more than 0, at most 3600 s)");
    // Far out of range: said as written, never as a wrapped-around number.
    CHECK(parse_error("name = \"t\"\nduration = \"99999999999999999999s\"\n" + body) ==
          "t.toml:2: duration: \"99999999999999999999s\" is out of range (more than 0, at most 3600 s)");
    CHECK_THAT(parse_error("name = \"t\"\nduration_s = 2e6\n" + body), Contains("2000000 s is out of range"));
  }
  SECTION("missing duration") {
    CHECK_THAT(parse_error("name = \"t\"\n" + body), StartsWith("t.toml:1: duration: missing"));
  }
  SECTION("odd ping-pong count") {
    CHECK_THAT(parse_error(std::string(kHeader) + "[[cgroup]]\nname = \"a\"\nworkers = [ { type = \"pipe_pingpong\", count = 3 } ]\n"),
               StartsWith("t.toml:5: cgroup[0].workers[0].count: 3 is odd"));
  }
  SECTION("fraction start not below end") {
    CHECK(parse_error(std::string(kHeader) + "[[cgroup]]\nname = \"a\"\ncpuset = { fraction = [0.5, 0.5] }\n") ==
          "t.toml:5: cgroup[0].cpuset.fraction: start must be below end");
  }
  SECTION("cpuset with two selectors") {
    CHECK_THAT(parse_error(std::string(kHeader) + "[[cgroup]]\nname = \"a\"\ncpuset = { llc = 0, node = 0 }\n"),
               StartsWith("t.toml:5: cgroup[0].cpuset: a cpuset needs exactly one of"));
  }
  SECTION("no workers at all") {
    CHECK(parse_error(std::string(kHeader) + "[[cgroup]]\nname = \"a\"\n") ==
          "t.toml:1: no workers: declare some in [[cgroup]] workers or a spawn step (or run [[payload]]s alone)");
  }
  SECTION("rt_hog with the normal policy") {
    CHECK(parse_error(std::string(kHeader) + "[[cgroup]]\nname = \"a\"\nworkers = [ { type = \"rt_hog\", policy = \"normal\" } ]\n") ==
          "t.toml:5: cgroup[0].workers[0].policy: rt_hog needs policy fifo or rr");
  }
}

TEST_CASE("an unreadable file is one error line") {
  CHECK_THROWS_WITH(parse_scenario_file("/nonexistent/x.toml"), "/nonexistent/x.toml: cannot read the scenario file");
}

TEST_CASE("a watch op: a kernel word the host watches from its step on, with an optional condition - not in the "
          "guest's plan") {
  const std::string body = std::string(kHeader) +
                           "[[cgroup]]\nname = \"a\"\nworkers = [ { type = \"spin\" } ]\n"  // lines 3-5
                           "[[step]]\nhold = 0.5\n"                                          // lines 6-7
                           "[[step]]\n";                                                     // line 8
  auto s = parse_scenario(body + "ops = [ { op = \"watch\", word = \"total_forks:8\", freeze = true, when = \">= 0x40\" } ]\n",
                          "t.toml");
  REQUIRE(s.steps.size() == 2);
  REQUIRE(s.steps[1].ops.size() == 1);
  const auto& op = s.steps[1].ops[0];
  CHECK(op.kind == StepOp::Kind::watch);
  CHECK(op.word == "total_forks:8");
  CHECK(op.freeze);
  REQUIRE(op.when);
  CHECK(op.when->text() == ">= 64");
  CHECK(op.when->holds(64));
  CHECK_FALSE(op.when->holds(63));
  CHECK(op.where.line == 9);
  CHECK(op.where.field == "step[1].ops[0]");
  // The guest's plan has the step (indices match the file) without the watch.
  auto plan = make_plan(s, ktstr::kvm::Topology(ktstr::kvm::TopologySpec{1, 1, 2, 1}), std::nullopt);
  REQUIRE(plan["steps"].size() == 2);
  CHECK(plan["steps"][1]["ops"].empty());

  SECTION("errors name the field") {
    CHECK(parse_error(body + "ops = [ { op = \"watch\" } ]\n") == "t.toml:9: step[1].ops[0].word: missing");
    CHECK(parse_error(body + "ops = [ { op = \"watch\", word = \"total_forks:3\" } ]\n") ==
          "t.toml:9: step[1].ops[0].word: \"total_forks:3\": the length after ':' is 1, 2, 4 or 8 bytes");
    CHECK(parse_error(body + "ops = [ { op = \"watch\", word = \"total_forks,freeze\" } ]\n") ==
          "t.toml:9: step[1].ops[0].word: write freeze = true, not \",freeze\"");
    CHECK(parse_error(body + "ops = [ { op = \"watch\", word = \"total_forks\", when = \"about 3\" } ]\n") ==
          "t.toml:9: step[1].ops[0].when: \"about 3\" is not a condition like \">= 100\" (== != < <= > >=, then a "
          "number)");
    CHECK(parse_error(body + "ops = [ { op = \"watch\", word = \"total_forks\", cgroup = \"a\" } ]\n") ==
          "t.toml:9: step[1].ops[0].cgroup: unknown key (expected one of: op, word, freeze, when)");
    CHECK(parse_error(body + "ops = [ { op = \"watch\", word = \"a\" }, { op = \"watch\", word = \"b\" },\n"
                             "        { op = \"watch\", word = \"c\" }, { op = \"watch\", word = \"d\" } ]\n") ==
          "t.toml:10: step[1].ops[3]: more than 3 watch ops (the debug registers have 3 user slots)");
  }
}

TEST_CASE("fault ops in steps: scheduler_kill, cpu_offline/cpu_online and cgroup_freeze reach the plan - bad ones name "
          "file, line and field") {
  const std::string body = std::string(kHeader) +
                           "[[cgroup]]\nname = \"a\"\nworkers = [ { type = \"spin\", count = 2 } ]\n"  // lines 3-5
                           "[[step]]\nhold_s = 1\nops = [ { op = \"scheduler_kill\" }, { op = \"cpu_offline\", cpu = 1 } ]\n"
                           "[[step]]\nops = [ { op = \"cgroup_freeze\", cgroup = \"a\", seconds = 2.5 }, "
                           "{ op = \"cpu_online\", cpu = 1 }, { op = \"scheduler_kill\", signal = 15 } ]\n";
  auto plan = build_plan(parse_scenario(body, "t.toml"), ktstr::kvm::Topology({1, 1, 2, 1}), std::nullopt);
  REQUIRE(plan.steps.size() == 2);
  const auto& a = plan.steps[0].ops;
  REQUIRE(a.size() == 2);
  CHECK(a[0].kind == ktstr::protocol::Op::Kind::scheduler_kill);
  CHECK(a[0].signal == 9);  // the default: SIGKILL
  CHECK(a[1].kind == ktstr::protocol::Op::Kind::cpu_offline);
  CHECK(a[1].cpu == 1);
  const auto& b = plan.steps[1].ops;
  REQUIRE(b.size() == 3);
  CHECK(b[0].kind == ktstr::protocol::Op::Kind::cgroup_freeze);
  CHECK(b[0].cgroup == "workload/a");
  CHECK(b[0].for_ms == 2500);
  CHECK(b[2].signal == 15);

  const std::string head = std::string(kHeader) + "[[cgroup]]\nname = \"a\"\nworkers = [ { type = \"spin\" } ]\n";
  CHECK(parse_error(head + "[[step]]\nops = [ { op = \"scheduler_kill\", signal = 65 } ]\n") ==
        "t.toml:7: step[0].ops[0].signal: 65 is out of range (1..64)");
  CHECK(parse_error(head + "[[step]]\nops = [ { op = \"cpu_offline\" } ]\n") == "t.toml:7: step[0].ops[0].cpu: missing");
  CHECK(parse_error(head + "[[step]]\nops = [ { op = \"cgroup_freeze\", cgroup = \"a\" } ]\n") ==
        "t.toml:7: step[0].ops[0].seconds: missing: how long the cgroup stays frozen");
  CHECK_THAT(parse_error(head + "[[step]]\nops = [ { op = \"cgroup_freeze\", cgroup = \"b\", seconds = 1 } ]\n"),
             Contains("unknown cgroup \"b\""));
  try {
    build_plan(parse_scenario(head + "[[step]]\nops = [ { op = \"cpu_offline\", cpu = 2 } ]\n", "t.toml"),
               ktstr::kvm::Topology({1, 1, 2, 1}), std::nullopt);
    FAIL("CPU 2 of a 2-CPU topology was accepted");
  } catch (const ScenarioError& e) {
    CHECK(std::string(e.what()) == "t.toml:7: step[0].ops[0].cpu: CPU 2 is not in the topology (2 CPUs)");
  }
}
