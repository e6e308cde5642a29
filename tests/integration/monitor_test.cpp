// The monitor on live guests (needs /dev/kvm: run inside the nested host here): the host
// finds the running kernel in guest memory (KASLR on: the fixture 6.12 kernel and Debian
// 6.1 both boot without nokaslr), checks the guest's linux_banner against the release the
// agent reports, and reads every CPU's runqueue while the guest runs.
#include <catch2/catch.hpp>

#include <fstream>
#include <set>

#include "apps/cli/base/exit_codes.hpp"
#include "apps/cli/kernel/kernel_cache.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/fixtures.hpp"

using namespace ktstr;

namespace {

// One spinner pinned to each of 2 CPUs, in its own cgroup (its comm names its CPU).
constexpr const char* kPinnedSpinners = R"(name = "pinned-spinners"
duration = "6s"
[[cgroup]]
name = "cpu0"
cpuset = { cpus = "0" }
workers = [ { type = "spin", count = 1 } ]
[[cgroup]]
name = "cpu1"
cpuset = { cpus = "1" }
workers = [ { type = "spin", count = 1 } ]
)";

// The same, and from its second step on the host watches nr_threads, which that step's
// spawn makes the guest write (fork.c: copy_process).
constexpr const char* kWatchStep = R"(
[[step]]
hold = 0.3
[[step]]
ops = [ { op = "watch", word = "nr_threads:4", when = "> 0" },
        { op = "spawn", cgroup = "cpu1", workers = [ { type = "sleep", count = 2 } ] } ]
)";

struct MonitoredRun {
  test::CliResult cli;
  nlohmann::json json;
};

MonitoredRun run_monitored(const std::string& name, std::vector<std::string> extra) {
  auto dir = test::scratch_dir("monitor-" + name);
  std::vector<std::string> args{"run", "--host=kvm", "--topology", "1,1,2,1", "--out", dir.string(),
                                "--json", (dir / "r.json").string(), "--monitor-period", "100"};
  args.insert(args.end(), extra.begin(), extra.end());
  MonitoredRun r{test::run_cli(args), nullptr};
  r.json = test::read_json(dir / "r.json");
  return r;
}

std::filesystem::path write_scenario(const std::string& name, const std::string& text) {
  auto path = test::scratch_dir("monitor-scenario-" + name) / (name + ".toml");
  std::ofstream(path) << text;
  return path;
}

// The self-check: the banner read through slide, page walk and page_offset_base names the
// release the agent reports from inside the guest.
void check_located(const nlohmann::json& j) {
  const auto& m = j["monitor"];
  REQUIRE(m.is_object());
  INFO(m.value("unavailable", nlohmann::json()).dump());
  REQUIRE(m["available"] == true);
  const std::string release = j["kernel"]["release"].get<std::string>();
  CHECK(m["kernel"]["release"] == release);
  CHECK_THAT(m["kernel"]["banner"].get<std::string>(), Catch::StartsWith("Linux version " + release + " "));
  const uint64_t slide = std::stoull(m["kernel"]["kaslr_slide"].get<std::string>(), nullptr, 16);
  CHECK(slide % 0x200000 == 0);
  CHECK(m["samples"].size() >= 10);
}

/// Every sample of `cpu` where the running task's comm is `comm`, and all samples of it.
std::pair<size_t, size_t> running_share(const nlohmann::json& m, uint32_t cpu, const std::string& comm) {
  size_t seen = 0, running = 0;
  for (const auto& s : m["samples"])
    for (const auto& c : s["cpus"]) {
      if (c["cpu"] != cpu || c["curr"].is_null()) continue;
      ++seen;
      if (c["curr"]["comm"] == comm && c["nr_running"].is_number() && c["nr_running"].get<uint64_t>() >= 1) ++running;
    }
  return {running, seen};
}

}  // namespace

TEST_CASE("Debian 6.1 (KASLR on): the monitor sees each pinned spinner running on its CPU - sched_ext fields "
          "are unavailable, not zero", "[monitor]") {
  const auto kernel = cli::cached_kernel(cli::Environment::from_process().cache_dir, "linux-6.1");
  if (!kernel) test::skip_test("no cached Debian 6.1 kernel (scripts/fetch-kernel.sh)");
  // total_forks counts every fork: the agent's workers make it change.
  auto r = run_monitored("debian61", {"--kernel", kernel->string(), "--scenario",
                                      write_scenario("pinned-spinners", std::string(kPinnedSpinners) + kWatchStep).string(),
                                      "--watch", "total_forks:8"});
  INFO(r.cli.output);
  REQUIRE(r.json.is_object());
  check_located(r.json);
  const auto& m = r.json["monitor"];
  // The spinners run 6 s of the run: a good share of each CPU's samples show them.
  for (uint32_t cpu : {0u, 1u}) {
    auto [running, seen] = running_share(m, cpu, "cpu" + std::to_string(cpu) + ".spin.0");
    INFO("CPU " << cpu << ": spinner running in " << running << " of " << seen << " samples");
    CHECK(seen >= 10);
    CHECK(running >= 10);
  }
  std::set<std::string> unavailable;
  for (const auto& f : m["unavailable_fields"]) unavailable.insert(f["field"].get<std::string>());
  CHECK(unavailable.count("scx_nr_running") == 1);
  CHECK(unavailable.count("enable_state") == 1);
  for (const auto& s : m["samples"]) {
    CHECK(s["sched_ext"]["enable_state"].is_null());
    for (const auto& c : s["cpus"]) CHECK(c["scx_nr_running"].is_null());
  }
  CHECK_THAT(r.cli.output, Catch::Contains("monitor: "));
  // The watch: forks seen as increases of total_forks, in order.
  REQUIRE(m["watches"].size() == 2);
  CHECK(m["watches"][0]["symbol"] == "total_forks");
  CHECK(m["watches"][0]["changes"].get<uint64_t>() >= 1);
  CHECK(m["watches"][0]["from_step"].is_null());
  // The scenario's watch op: slot 2, from step 1 on (about 1.8 s into the scenario).
  CHECK(m["watches"][1]["symbol"] == "nr_threads");
  CHECK(m["watches"][1]["slot"] == 2);
  CHECK(m["watches"][1]["from_step"] == 1);
  CHECK(m["watches"][1]["when"] == "> 0");
  REQUIRE(m["watches"][1]["active_at_s"].is_number());
  const double active_at = m["watches"][1]["active_at_s"].get<double>();
  CHECK(m["watches"][1]["changes"].get<uint64_t>() >= 2);  // two sleepers spawned
  REQUIRE(!m["watch_events"].empty());
  size_t step_events = 0;
  for (const auto& e : m["watch_events"]) {
    if (e["slot"] == 1) CHECK(e["new"].get<uint64_t>() > e["old"].get<uint64_t>());
    if (e["slot"] == 2) {
      ++step_events;
      CHECK(e["at_s"].get<double>() >= active_at);
    }
  }
  CHECK(step_events >= 1);
  // Hardware watchpoints name each write's writer, inside the kernel image: forks are
  // counted in copy_process. Where they do not fire, the run says so and polls.
  INFO(m["watch_path_detail"].dump());
  if (m["watch_path"] == "hardware") {
    // Every event names its writer: a hit is the event, or names the one the poll saw
    // first (a word changing all the time is often polled in the few ms a hit takes).
    for (const auto& e : m["watch_events"]) {
      INFO(e.dump());
      CHECK((e["via"] == "watchpoint" || e["via"] == "poll"));
      CHECK(e["vcpu"].is_number());
      REQUIRE(e["rip_symbol"].is_string());
      if (e["slot"] == 1) CHECK_THAT(e["rip_symbol"].get<std::string>(), Catch::StartsWith("copy_process"));
      CHECK_THAT(e["rip_symbol"].get<std::string>(), !Catch::StartsWith("outside the kernel image"));
    }
    CHECK_THAT(r.cli.output, Catch::Contains("(copy_process+0x"));  // the summary names the writer too
  } else {
    CHECK(m["watch_path"] == "polling");
    CHECK_THAT(m["watch_path_detail"].get<std::string>(), Catch::StartsWith("hardware watchpoints"));
  }
  CHECK(m["exit_watch"] == "not watched: no sched_ext exit kind in this kernel");
}

TEST_CASE("fixture 6.12 (KASLR on) under scx_simple: scx.nr_running goes non-zero, the enable state reads "
          "ENABLED with ops \"simple\", then DISABLED after detach - polling alone sees every exit kind", "[monitor][scx]") {
  const auto fixture = test::require_scx_fixture();
  // The polling path on a live guest: hardware watchpoints off, every exit kind still seen.
  auto r = run_monitored("scx", {"--kernel", fixture.kernel.string(), "--scenario", "steady", "--hardware-watchpoints",
                                 "off", "--scheduler", (fixture.schedulers / "scx_simple").string()});
  INFO(r.cli.output);
  REQUIRE(r.json.is_object());
  check_located(r.json);
  const auto& m = r.json["monitor"];
  bool scx_running = false, enabled = false, disabled_after = false;
  for (const auto& s : m["samples"]) {
    const auto& g = s["sched_ext"];
    if (g["enable_state"] == "ENABLED" && g["ops"] == "simple") enabled = true;
    if (enabled && g["enable_state"] == "DISABLED") disabled_after = true;
    for (const auto& c : s["cpus"])
      if (c["scx_nr_running"].is_number() && c["scx_nr_running"].get<uint64_t>() > 0) scx_running = true;
  }
  CHECK(scx_running);
  CHECK(enabled);
  CHECK(disabled_after);
  CHECK(m["unavailable_fields"].empty());
  // Attach and detach are exit-kind events, without a freeze: ... -> NONE -> ... -> DONE.
  std::vector<std::string> kinds;
  for (const auto& e : m["exit_events"]) {
    kinds.push_back(e["to"].get<std::string>());
    CHECK(e["froze"] == false);
  }
  INFO(m["exit_events"].dump());
  REQUIRE(kinds.size() >= 2);
  CHECK(kinds.front() == "NONE");
  CHECK(kinds.back() == "DONE");
  // Hardware watchpoints off: polling alone, said so, and no writer named.
  CHECK(m["watch_path"] == "polling");
  CHECK(m["watch_path_detail"] == "hardware watchpoints off (--hardware-watchpoints off): polling every 10 ms");
  CHECK(m["watchpoint_hits"] == 0);
  for (const auto& e : m["exit_events"]) {
    CHECK(e["via"] == "poll");
    CHECK(e["vcpu"].is_null());
  }
  // The host's findings were judged, and found nothing wrong in a passing run.
  bool judged_stall = false;
  for (const auto& f : r.json["scenario"]["findings"])
    if (f["check"] == "predicted_stall") judged_stall = f["verdict"] == "pass";
  CHECK(judged_stall);
}

TEST_CASE("scx_qmap -t 2 stalls user threads: the monitor predicts the stall, naming pid and CPU, before the "
          "sched_ext watchdog ends the scheduler", "[monitor][scx]") {
  const auto fixture = test::require_scx_fixture();
  auto r = run_monitored("qmap-stall", {"--kernel", fixture.kernel.string(), "--scenario", "steady", "--scheduler",
                                        (fixture.schedulers / "scx_qmap").string(), "--", "-t", "2"});
  INFO(r.cli.output);
  REQUIRE(r.json.is_object());
  check_located(r.json);
  CHECK(r.cli.exit_code == cli::exit_fail);
  // When the monitor saw sched_ext leave ENABLED (the watchdog's error tears it down).
  double left_enabled_s = -1;
  bool was_enabled = false;
  for (const auto& s : r.json["monitor"]["samples"]) {
    const auto& state = s["sched_ext"]["enable_state"];
    if (state == "ENABLED") was_enabled = true;
    else if (was_enabled && left_enabled_s < 0) left_enabled_s = s["at_s"].get<double>();
  }
  REQUIRE(left_enabled_s > 0);
  const nlohmann::json* first = nullptr;
  for (const auto& f : r.json["scenario"]["findings"])
    if (f["check"] == "predicted_stall" && f["verdict"] == "fail" && (!first || f["at_ms"] < (*first)["at_ms"]))
      first = &f;
  REQUIRE(first);
  INFO((*first)["message"].get<std::string>());
  CHECK_THAT((*first)["message"].get<std::string>(), Catch::StartsWith("predicted stall: pid "));
  CHECK((*first)["cpu"].is_number());
  CHECK((*first)["at_ms"].get<double>() < left_enabled_s * 1000);
  CHECK_THAT(r.cli.output, Catch::Contains("predicted stall: pid "));
  // The watchdog's error is ERROR_STALL naming the stalled task; its dump was taken while
  // the scheduler was still there: the error event (which froze) comes before the
  // teardown's -> DONE in the timeline.
  REQUIRE(r.json.contains("dump"));
  const auto dump = test::read_json(r.json["dump"].get<std::string>());
  REQUIRE(dump.is_object());
  CHECK(dump["trigger"] == "scheduler error ERROR_STALL");
  CHECK(dump["partial"] == false);
  CHECK_THAT(dump["exit"]["info"]["msg"].get<std::string>(), Catch::Contains("failed to run for"));
  double froze_at = -1, done_at = -1;
  for (const auto& e : r.json["monitor"]["exit_events"]) {
    if (e["froze"] == true) froze_at = e["at_s"].get<double>();
    if (e["to"] == "DONE") done_at = e["at_s"].get<double>();
  }
  REQUIRE(froze_at > 0);
  CHECK(dump["at_s"].get<double>() >= froze_at);
  // Slot 0 sees the error claim itself, before the teardown's -> DONE: the dump holds the
  // scheduler's state. (Polling can see the kind first at DONE: the stall's teardown
  // follows its claim within a few ms; the dump then says it came after the teardown.)
  INFO(r.json["monitor"]["watch_path_detail"].dump());
  if (r.json["monitor"]["watch_path"] == "hardware") {
    if (done_at > 0) CHECK(froze_at < done_at);
    CHECK(dump["exit"]["after_teardown"] == false);
  }
}

TEST_CASE("scx_qmap -e 500 calls scx_bpf_error: the host sees ERROR_BPF in guest memory, freezes every vCPU for a "
          "dump, and the verdict names the kind and qmap's message", "[monitor][scx]") {
  const auto fixture = test::require_scx_fixture();
  auto r = run_monitored("qmap-error", {"--kernel", fixture.kernel.string(), "--scenario", "steady", "--scheduler",
                                        (fixture.schedulers / "scx_qmap").string(), "--", "-e", "500"});
  INFO(r.cli.output);
  REQUIRE(r.json.is_object());
  CHECK(r.cli.exit_code == cli::exit_fail);
  bool named = false;
  for (const auto& f : r.json["scenario"]["findings"])
    if (f["check"] == "scheduler" && f["message"].get<std::string>().rfind("scheduler error ERROR_BPF: ", 0) == 0)
      named = true;
  CHECK(named);
  CHECK_THAT(r.cli.output, Catch::Contains("=== BUG SUMMARY ==="));
  REQUIRE(r.json.contains("dump"));
  const auto dump = test::read_json(r.json["dump"].get<std::string>());
  REQUIRE(dump.is_object());
  CHECK(dump["trigger"] == "scheduler error ERROR_BPF");
  CHECK(dump["partial"] == false);
  CHECK(dump["vcpus"].size() == 2);  // every vCPU parked
  CHECK(dump["guest"]["available"] == true);
  CHECK(dump["exit"]["info"]["available"] == true);
  CHECK_FALSE(dump["exit"]["info"]["msg"].get<std::string>().empty());
  // The rips of a kernel frozen mid-run are named through its symbols (KASLR slide applied).
  bool symbolized = false;
  for (const auto& v : dump["vcpus"])
    if (!v["rip_symbol"].get<std::string>().empty()) symbolized = true;
  CHECK(symbolized);
  // Caught by slot 0 where the hardware watchpoints fire: the writer is sched_ext's error
  // path (scx_ops_exit_kind's cmpxchg in scx_ops_error_kind and friends), in the image.
  INFO(r.json["monitor"]["watch_path_detail"].dump());
  if (r.json["monitor"]["watch_path"] == "hardware") {
    REQUIRE(dump["exit"]["rip_symbol"].is_string());  // a hit, or a hit naming what the poll saw first
    CHECK_THAT(dump["exit"]["rip_symbol"].get<std::string>(), Catch::StartsWith("scx_"));
    CHECK_THAT(r.cli.output, Catch::Contains("the exit kind was written by vCPU "));
  } else {
    CHECK(dump["exit"]["via"] == "poll");
  }
  // The scheduler's BPF state: qmap's .bss map, rendered with its BTF, counts what it enqueued.
  const auto& bpf = dump["bpf_maps"];
  INFO(bpf.dump().substr(0, 4000));
  CHECK(bpf["available"] == true);
  const nlohmann::json* bss = nullptr;
  for (const auto& m : bpf["maps"])
    if (m["name"].get<std::string>().ends_with(".bss") && m["type"] == "array") bss = &m;
  REQUIRE(bss != nullptr);
  CHECK((*bss)["btf"] == true);
  REQUIRE((*bss)["entries"].size() == 1);
  const auto& value = (*bss)["entries"][0]["value"];
  REQUIRE(value.contains("nr_enqueued"));
  CHECK(std::stoull(value["nr_enqueued"].get<std::string>()) > 0);
  CHECK(value.contains("nr_dispatched"));
  CHECK_THAT(r.cli.output, Catch::Contains("scx_qmap.bss array key/value 4/"));
}
