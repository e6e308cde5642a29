// The visual report: one timeline per run with one lane per CPU, what ran and the queue
// depth from the monitor's samples, the marks placed in VM time, hostile text escaped,
// and partial or malformed results drawn as far as they go instead of throwing.
#include <catch2/catch.hpp>

#include <algorithm>
#include <regex>

#include "apps/cli/report/html_report.hpp"
#include "apps/cli/report/run_timeline.hpp"

using namespace ktstr::cli;
using nlohmann::json;

namespace {

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

/// A monitor sample: per CPU {pid, comm, nr_running}.
json sample(double at_s, std::vector<std::tuple<int, std::string, int>> cpus) {
  json list = json::array();
  for (size_t i = 0; i < cpus.size(); ++i) {
    const auto& [pid, comm, nr] = cpus[i];
    list.push_back({{"cpu", i}, {"nr_running", nr}, {"curr", {{"pid", pid}, {"comm", comm}, {"policy", 0}}}});
  }
  return {{"at_s", at_s}, {"cpus", list}};
}

/// A result.json with two CPUs, 4 s of samples, a freeze, a fault on vCPU 1, a watch hit
/// on vCPU 0 and a failed finding on CPU 1 (the scenario starts 2 s after VM start).
json two_cpu_result() {
  json samples = json::array();
  for (int i = 0; i < 40; ++i)
    samples.push_back(sample(i * 0.1, {{i < 20 ? 0 : 7, i < 20 ? "swapper/0" : "spin", i < 20 ? 0 : 2}, {8, "spin", 1}}));
  return {
      {"verdict", "fail"},
      {"declared", {{"vcpus", 2}}},
      {"boot", {{"host_to_agent_s", 1.5}, {"guest_uptime_at_agent_s", 1.0}}},
      {"vm_end", {{"how", "power-off"}, {"detail", ""}, {"elapsed_s", 4.0}}},
      {"freezes", {{"list", json::array({{{"id", 1}, {"trigger", "request"}, {"at_s", 3.0}, {"latency_s", 0.001},
                                          {"frozen_s", 0.2}, {"partial", false}, {"missing", json::array()}}})}}},
      {"faults", json::array({{{"kind", "vcpu_stall"}, {"spec", "vcpu_stall:1@2+1"}, {"vcpu", 1}, {"at_s", 2},
                               {"seconds", 1}, {"applied_at_s", 2.01}, {"ended_at_s", 3.02}}})},
      {"monitor",
       {{"available", true},
        {"period_ms", 100},
        {"samples", samples},
        {"watches", json::array({{{"slot", 1}, {"spec", "total_forks:8"}}})},
        {"watch_events", json::array({{{"slot", 1}, {"at_s", 2.5}, {"old", 10}, {"new", 11}, {"via", "poll"},
                                       {"froze", false}, {"vcpu", 0}, {"rip", "0xffffffff81000000"}, {"rip_symbol", "copy_process"}}})},
        {"exit_events", json::array()}}},
      {"scenario",
       {{"scenario", "pinned"},
        {"timing", {{"started_uptime_s", 1.5}, {"steps", json::array()}}},
        {"findings", json::array({{{"check", "gap"}, {"verdict", "fail"}, {"worker", "spin-1"}, {"cpu", 1}, {"at_ms", 500},
                                   {"message", "worker spin-1 did not run for 1000 ms on CPU 1"}},
                                  {{"check", "starvation"}, {"verdict", "pass"}, {"at_ms", 100}, {"message", "ok"}}})},
        {"scheduler", {{"path", nullptr}, {"events", json::array()}}}}}};
}

json experiment_of(std::vector<json> results) {
  json vms = json::array();
  for (size_t i = 0; i < results.size(); ++i)
    vms.push_back({{"name", "vm" + std::to_string(i)}, {"vm", {{"topology", "1,1,2,1"}, {"scheduler", "eevdf"}}},
                   {"state", results[i].is_null() ? "interrupted" : "ended"}, {"met", !results[i].is_null()},
                   {"why", "ok"}, {"result", results[i]}});
  return {{"schema", 1}, {"experiment", {{"name", "x"}}}, {"finished", true}, {"interrupted", false},
          {"vms", vms}, {"comparisons", json::array()}, {"baseline", nullptr}};
}

}  // namespace

TEST_CASE("html report: one timeline per run, one lane per CPU (declared, sampled, or from the VM's topology)") {
  json sampled_only = {{"monitor", {{"available", true}, {"samples", json::array({sample(0, {{1, "a", 1}, {2, "b", 1}, {3, "c", 1}})})}}}};
  json declared_four = {{"declared", {{"vcpus", 4}}}};
  const auto page = experiment_html(experiment_of({two_cpu_result(), sampled_only, declared_four, nullptr}));
  CHECK(count(page, "<svg class=\"timeline\"") == 4);
  CHECK(count(page, "<section class=\"run\"") == 4);
  std::regex cpus("<svg class=\"timeline\"[^>]* data-cpus=\"([0-9]+)\"");
  std::vector<std::string> lanes;
  for (auto it = std::sregex_iterator(page.begin(), page.end(), cpus); it != std::sregex_iterator(); ++it)
    lanes.push_back((*it)[1]);
  CHECK(lanes == std::vector<std::string>{"2", "3", "4", "2"});  // the run without result: its topology 1,1,2,1
  CHECK(count(page, "<g class=\"lane\"") == 2 + 3 + 4 + 2);
  CHECK(page.find("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'") != std::string::npos);
  CHECK(page.find("<script") == std::string::npos);
}

TEST_CASE("run timeline: consecutive samples of one task are one span, the idle task is marked idle, depth per sample") {
  const auto t = run_timeline(two_cpu_result());
  REQUIRE(t.lanes.size() == 2);
  const auto& cpu0 = t.lanes[0].ran;
  REQUIRE(cpu0.size() == 2);
  CHECK(cpu0[0].idle);
  CHECK(cpu0[0].from_s == Approx(0));
  CHECK(cpu0[0].to_s == Approx(2.0));
  CHECK_FALSE(cpu0[1].idle);
  CHECK(cpu0[1].comm == "spin");
  CHECK(cpu0[1].pid == 7);
  CHECK(cpu0[1].to_s == Approx(4.0));  // the last sample holds for one period
  CHECK(t.lanes[1].ran.size() == 1);
  CHECK(t.lanes[0].depth.size() == 40);
  CHECK(t.max_depth == 2);
  CHECK(t.span_s == Approx(4.0));
}

TEST_CASE("run timeline: freezes, faults, watchpoint hits and findings are placed on their CPU in VM time") {
  const auto t = run_timeline(two_cpu_result());
  auto find = [&](MarkKind k) {
    auto it = std::find_if(t.marks.begin(), t.marks.end(), [&](const TimelineMark& m) { return m.kind == k; });
    REQUIRE(it != t.marks.end());
    return *it;
  };
  const auto freeze = find(MarkKind::freeze);
  CHECK(freeze.from_s == Approx(3.0));
  CHECK(freeze.to_s == Approx(3.2));
  CHECK_FALSE(freeze.cpu);
  const auto fault = find(MarkKind::fault);
  CHECK(fault.cpu == 1u);
  CHECK(fault.from_s == Approx(2.01));
  CHECK(fault.to_s == Approx(3.02));
  const auto hit = find(MarkKind::watch_hit);
  CHECK(hit.cpu == 0u);
  CHECK_THAT(hit.label, Catch::Contains("total_forks:8") && Catch::Contains("10 -> 11") && Catch::Contains("copy_process"));
  // Scenario t0 = 1.5 s (host, at the agent) + (1.5 - 1.0) s of guest uptime = 2.0 s; the finding at 500 ms.
  REQUIRE(t.scenario_start_s);
  CHECK(*t.scenario_start_s == Approx(2.0));
  const auto finding = find(MarkKind::finding);
  CHECK(finding.from_s == Approx(2.5));
  CHECK(finding.cpu == 1u);
  CHECK(finding.severity == "fail");
  CHECK(std::count_if(t.marks.begin(), t.marks.end(), [](auto& m) { return m.kind == MarkKind::finding; }) == 1);  // not the pass
}

TEST_CASE("html report: hostile text from the guest is escaped everywhere, and cannot add elements") {
  auto r = two_cpu_result();
  const std::string script = "</title></svg><script>alert(1)</script><svg class=\"timeline\">";
  for (auto& s : r["monitor"]["samples"]) s["cpus"][0]["curr"]["comm"] = script;
  r["scenario"]["findings"][0]["message"] = "<img src=x onerror=alert(1)> 'quoted' \"double\" & \x01 bell \xff\xfe bad";
  r["scenario"]["findings"][0]["worker"] = "w\"><b>bold</b>";
  r["monitor"]["watch_events"][0]["rip_symbol"] = "<script>sym</script>";
  r["reasons"] = json::array({"<iframe src=//x>"});
  r["vm_end"]["detail"] = "</p><style>body{display:none}</style>";
  auto x = experiment_of({r});
  x["experiment"]["name"] = "</title><script>name</script>";
  x["experiment"]["description"] = "<a href=javascript:alert(1)>x</a>";
  x["vms"][0]["name"] = "<svg class=\"timeline\" onload=alert(1)>";
  const auto page = experiment_html(x);
  std::string lower = page;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  CHECK(lower.find("<script") == std::string::npos);
  CHECK(lower.find("<img") == std::string::npos);
  CHECK(lower.find("<iframe") == std::string::npos);
  CHECK(lower.find("<b>") == std::string::npos);
  CHECK(lower.find("<a href=javascript") == std::string::npos);
  CHECK(count(lower, "<style") == 1);  // the page's own
  CHECK(count(page, "<svg class=\"timeline\"") == 1);
  CHECK(page.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  CHECK(page.find("&lt;img src=x onerror=alert(1)&gt; &apos;quoted&apos; &quot;double&quot; &amp; \\x01 bell \\xff\\xfe bad") !=
        std::string::npos);
  CHECK(page.find("w&quot;&gt;&lt;b&gt;bold&lt;/b&gt;") != std::string::npos);
}

TEST_CASE("html report: empty, partial and mistyped results are drawn as far as they go, never thrown on") {
  for (const json& x : {json(), json::object(), json::array(), json{{"vms", "not a list"}},
                        json{{"vms", json::array({1, nullptr, "x", json::object()})}, {"comparisons", 7}}}) {
    INFO(x.dump());
    std::string page;
    REQUIRE_NOTHROW(page = experiment_html(x));
    CHECK(page.rfind("<!DOCTYPE html>", 0) == 0);
    CHECK(page.ends_with("</html>\n"));
  }
  CHECK(count(experiment_html(json{{"vms", json::array({1, nullptr, "x", json::object()})}}), "<svg class=\"timeline\"") == 4);

  json odd = {{"declared", {{"vcpus", "two"}}},
              {"vm_end", {{"elapsed_s", "long"}}},
              {"freezes", {{"list", json::array({json::object(), {{"at_s", "x"}}, 5})}}},
              {"faults", json::array({{{"vcpu", -1}, {"applied_at_s", 1.0}}, {{"vcpu", 1e12}}, nullptr})},
              {"monitor", {{"samples", json::array({{{"at_s", "x"}}, {{"at_s", 1.0}, {"cpus", nullptr}},
                                                     {{"at_s", 1.5}, {"cpus", json::array({{{"cpu", -1}}, {{"cpu", 4e9}},
                                                                                           {{"cpu", 0}, {"curr", {{"pid", "x"}}}}})}}})},
                           {"watch_events", json::array({{{"at_s", 0.5}, {"vcpu", 99999}}})}}},
              {"scenario", {{"findings", json::array({{{"verdict", "fail"}, {"at_ms", 1e300}, {"cpu", 4000000000u}}})},
                            {"timing", "x"}}}};
  RunTimeline t;
  REQUIRE_NOTHROW(t = run_timeline(odd));
  CHECK(t.lanes.size() == 1);  // CPU 0 from the one valid sample
  REQUIRE(t.lanes[0].ran.size() == 1);
  CHECK(t.lanes[0].ran[0].pid == -1);  // a pid that is no number
  for (const auto& m : t.marks) CHECK_FALSE(m.cpu);  // vCPU -1, 1e12, 99999: no such lane
  CHECK_NOTHROW(run_html(odd, "odd"));
  CHECK_NOTHROW(run_html(nullptr, "null"));
  CHECK(count(run_html(nullptr, "null"), "<svg class=\"timeline\"") == 1);
}

TEST_CASE("run timeline: guest times off the axis are listed, not drawn - a scenario without timing says why") {
  auto r = two_cpu_result();
  r["scenario"]["findings"][0]["at_ms"] = 1e12;
  auto t = run_timeline(r);
  CHECK(std::none_of(t.marks.begin(), t.marks.end(), [](auto& m) { return m.kind == MarkKind::finding; }));
  CHECK_THAT(t.notes.front(), Catch::Contains("1 mark(s) outside the run's 4.0 s not drawn"));
  r["scenario"]["findings"][0]["at_ms"] = 500;
  r.erase("boot");
  t = run_timeline(r);
  REQUIRE(t.notes.size() == 1);
  CHECK_THAT(t.notes[0], Catch::Contains("1 finding(s), scheduler event(s) and step(s) not drawn"));
}

TEST_CASE("run timeline: a long run is thinned to a bounded number of spans per lane, keeping the deepest queue") {
  json samples = json::array();
  for (int i = 0; i < 20000; ++i) samples.push_back(sample(i * 0.01, {{1 + i % 3, "t" + std::to_string(i % 3), i == 12345 ? 9 : 1}}));
  const auto t = run_timeline({{"declared", {{"vcpus", 1}}}, {"monitor", {{"period_ms", 10}, {"samples", samples}}}});
  REQUIRE(t.lanes.size() == 1);
  CHECK(t.lanes[0].ran.size() <= kMaxPointsPerLane);
  CHECK(t.lanes[0].depth.size() <= kMaxPointsPerLane);
  CHECK(t.max_depth == 9);
}

TEST_CASE("html report: the comparison table shows both sides, the ratio, Welch's p and the verdict") {
  auto x = experiment_of({two_cpu_result(), two_cpu_result()});
  x["baseline"] = "vm0";
  x["comparisons"] = json::array({{{"metric", "max_gap_ms"}, {"vm", "vm1"}, {"baseline_mean", 800.0}, {"mean", 1000.0},
                                   {"baseline_values", {790, 800, 810}}, {"values", {990, 1000, 1010}},
                                   {"baseline_stddev", 10.0}, {"stddev", 10.0}, {"ratio", 1.25},
                                   {"welch", {{"t", 24.5}, {"df", 4}, {"p", 0.0001}}}, {"verdict", "worse"}, {"worse", true}}});
  const auto page = experiment_html(x);
  CHECK(page.find("Comparison with baseline vm0") != std::string::npos);
  CHECK(page.find("<td>vm1</td><td>max_gap_ms</td><td class=\"num\">800 &plusmn; 10 <span class=\"dim\">(3)</span></td>"
                  "<td class=\"num\">1000 &plusmn; 10 <span class=\"dim\">(3)</span></td><td class=\"num\">&times;1.250</td>"
                  "<td class=\"num\">0.000</td><td><span class=\"verdict v-fail\">worse</span></td>") != std::string::npos);
  x["comparisons"] = json::array();
  x["baseline"] = nullptr;
  CHECK(experiment_html(x).find("No comparison: the experiment has no [compare].") != std::string::npos);
}

TEST_CASE("html report: an interrupted experiment's page says it is partial") {
  auto x = experiment_of({two_cpu_result(), nullptr});
  CHECK(experiment_html(x).find("Partial result") == std::string::npos);
  x["interrupted"] = true;
  CHECK(experiment_html(x).find("Partial result: the experiment was interrupted") != std::string::npos);
}
