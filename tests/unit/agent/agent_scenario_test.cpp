// The whole scenario runner on the test machine, events captured from the channel.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <map>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent_channel.hpp"
#include "apps/protocol/agent_events.hpp"
#include "cgroups.hpp"
#include "scenario_runner.hpp"

using namespace ktstr::agent;

namespace {

/// Runs the plan with the channel on a temporary file; returns the parsed lines.
std::vector<Json> run(const std::string& plan, ScenarioOptions options = {}) {
  char path[] = "/tmp/agent_scenario_XXXXXX";
  int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  int saved = ::dup(STDOUT_FILENO);
  ::dup2(fd, STDOUT_FILENO);
  AgentChannel channel;
  channel.open_stdout();
  ::dup2(saved, STDOUT_FILENO);
  ::close(saved);
  std::atomic<bool> stop{false};
  run_scenario(plan, channel, stop, options);
  std::vector<Json> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    // Every line the agent writes is one the host's parser accepts (apps/protocol).
    auto parsed = ktstr::protocol::parse_agent_line(line);
    INFO(line);
    if (auto* error = std::get_if<ktstr::protocol::ProtocolError>(&parsed)) FAIL("the host refuses: " << error->message);
    lines.push_back(Json::parse(line));
  }
  ::close(fd);
  ::unlink(path);
  return lines;
}

std::vector<Json> events(const std::vector<Json>& lines, const std::string& name) {
  std::vector<Json> out;
  for (const auto& l : lines)
    if (l["event"] == name) out.push_back(l);
  return out;
}

}  // namespace

TEST_CASE("agent scenario: a bad plan ends in agent_error and scenario_done with errors", "[agent][scenario]") {
  auto lines = run(R"({"version":1})");
  REQUIRE_FALSE(events(lines, "agent_error").empty());
  auto done = events(lines, "scenario_done");
  REQUIRE(done.size() == 1);
  CHECK_FALSE(done[0]["errors"].empty());
  CHECK(events(lines, "scenario_started").empty());
}

TEST_CASE("agent scenario: steps run on time, every worker reports once, seq grows", "[agent][scenario]") {
  auto lines = run(R"({"version":1,"name":"t","duration_ms":400,"usable_cpus":[0],"workers":[
      {"id":0,"name":"s","type":"spin","policy":"batch"},
      {"id":1,"name":"z","type":"sleep","nice":5,"params":{"sleep_us":300}}],
    "steps":[{"at_ms":100,"ops":[{"op":"stop","workers":[1]}]},
             {"at_ms":200,"ops":[{"op":"spawn","workers":[{"id":2,"name":"y","type":"yield","start_ms":200}]}]}]})");
  for (size_t i = 0; i < lines.size(); ++i) CHECK(lines[i]["seq"] == i);
  REQUIRE(events(lines, "scenario_started").size() == 1);
  auto steps = events(lines, "step");
  REQUIRE(steps.size() == 2);
  for (const auto& s : steps) {
    INFO(s.dump());
    CHECK(s["at_ms"].get<long long>() >= s["planned_ms"].get<long long>());
    CHECK(s["at_ms"].get<long long>() <= s["planned_ms"].get<long long>() + 50);
    CHECK(s["errors"].empty());
  }
  auto reports = events(lines, "worker_report");
  REQUIRE(reports.size() == 3);
  std::map<int, Json> by_id;
  for (const auto& r : reports) by_id[r["id"].get<int>()] = r;
  CHECK(by_id.size() == 3);
  CHECK(by_id[1]["stopped_ms"].get<long long>() <= 150);
  CHECK(by_id[2]["started_ms"].get<long long>() >= 200);
  for (auto& [id, r] : by_id) CHECK(r["exit"] == "ok");
  auto done = events(lines, "scenario_done");
  REQUIRE(done.size() == 1);
  CHECK(done[0]["errors"].empty());
  CHECK(done[0]["wall_ms"].get<double>() >= 400);
  CHECK(lines.back()["event"] == "scenario_done");
}

TEST_CASE("agent scenario: a scheduler without sched_ext is unsupported, no scenario", "[agent][scenario]") {
  ScenarioOptions options;
  options.sched_ext_root = "/nonexistent/sched_ext";
  auto lines = run(R"({"version":1,"name":"t","duration_ms":100,"usable_cpus":[0],"workers":[{"id":0,"name":"s","type":"spin"}],
                       "scheduler":{"path":"/bin/true","args":[],"enable_timeout_ms":100}})", options);
  auto sched = events(lines, "scheduler");
  REQUIRE(sched.size() == 1);
  CHECK(sched[0]["state"] == "unsupported");
  CHECK_THAT(sched[0]["reason"].get<std::string>(), Catch::Contains("CONFIG_SCHED_CLASS_EXT"));
  CHECK(events(lines, "scenario_started").empty());
  CHECK_FALSE(events(lines, "scenario_done").at(0)["errors"].empty());
}

TEST_CASE("agent scenario: a scheduler that never enables times out with its output", "[agent][scenario]") {
  // A fake sched_ext directory whose state never becomes "enabled".
  char dir[] = "/tmp/agent_scx_XXXXXX";
  REQUIRE(::mkdtemp(dir));
  std::ofstream(std::string(dir) + "/state") << "disabled\n";
  ScenarioOptions options;
  options.sched_ext_root = dir;
  auto lines = run(R"({"version":1,"name":"t","duration_ms":100,"usable_cpus":[0],"workers":[],
                       "scheduler":{"path":"/bin/sh","args":["-c","echo hello; echo world >&2; sleep 5"],"enable_timeout_ms":300}})", options);
  std::remove((std::string(dir) + "/state").c_str());
  ::rmdir(dir);
  auto sched = events(lines, "scheduler");
  REQUIRE(sched.size() == 2);
  CHECK(sched[0]["state"] == "started");
  CHECK(sched[1]["state"] == "enable_timeout");
  CHECK(sched[1]["sched_ext_state"] == "disabled");
  CHECK(sched[1]["output"] == Json::array({"hello", "world"}));
  CHECK(events(lines, "scenario_started").empty());
}

TEST_CASE("agent scenario: cgroups with cpusets on a writable cgroup2 root", "[agent][scenario][cgroup]") {
  Cgroups root;
  if (auto why = root.check_root()) {
    WARN("test not run: " << *why);
    return;
  }
  auto lines = run(R"({"version":1,"name":"cg","duration_ms":300,"usable_cpus":[0],
    "cgroups":[{"path":"ktstr-unit/a","cpus":[0]}],
    "workers":[{"id":0,"name":"s","cgroup":"ktstr-unit/a","type":"spin"}],
    "steps":[{"at_ms":100,"ops":[{"op":"clear_cpuset","cgroup":"ktstr-unit/a"},{"op":"add_cgroup","cgroup":"ktstr-unit/b","cpus":null},
                                 {"op":"move_tasks","from":"ktstr-unit/a","to":"ktstr-unit/b"}]}]})");
  auto steps = events(lines, "step");
  REQUIRE(steps.size() == 1);
  CHECK(steps[0]["errors"].empty());
  auto reports = events(lines, "worker_report");
  REQUIRE(reports.size() == 1);
  CHECK(reports[0]["exit"] == "ok");
  CHECK(events(lines, "scenario_done").at(0)["errors"].empty());
  ::rmdir("/sys/fs/cgroup/ktstr-unit");  // the plan's parent is not removed by the agent
}

TEST_CASE("agent cgroups: mkdir, move a process, rmdir on a cgroup2 mount", "[agent][cgroup]") {
  // Any writable cgroup2 mount will do here: the guest's root or a hybrid host's unified one.
  std::optional<Cgroups> cg;
  for (const char* root : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"})
    if (!Cgroups(root).check_root()) {
      cg.emplace(root);
      break;
    }
  if (!cg) {
    WARN("test not run: no writable cgroup2 mount");
    return;
  }
  auto create_errors = cg->create("ktstr-unit-mv/x", std::nullopt);  // controller errors allowed: a v1 host
  INFO(create_errors.size() << " controller errors (expected on a cgroup v1 hybrid host)");
  pid_t child = ::fork();
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  REQUIRE(child > 0);
  CHECK(cg->move("ktstr-unit-mv/x", child).empty());
  CHECK(cg->procs("ktstr-unit-mv/x") == std::vector<pid_t>{child});
  CHECK_FALSE(cg->remove("ktstr-unit-mv/x").empty());  // busy: still has a process
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  CHECK(cg->remove("ktstr-unit-mv/x").empty());
  CHECK(cg->remove("ktstr-unit-mv").empty());
}

TEST_CASE("agent scenario: a payload runs, its exit code and last output lines are reported", "[agent][scenario][payload]") {
  // A payload-only scenario ends when its payloads end, long before duration_ms.
  auto lines = run(R"({"version":1,"name":"p","duration_ms":20000,"usable_cpus":[0],"workers":[],
    "payloads":[{"id":0,"name":"sh","path":"/bin/sh","args":["-c","echo Time: 1.5; echo oops >&2; exit 3"]}],
    "end_with_payloads":true})");
  auto payloads = events(lines, "payload");
  REQUIRE(payloads.size() == 1);
  INFO(payloads[0].dump());
  CHECK(payloads[0]["name"] == "sh");
  CHECK(payloads[0]["exit_code"] == 3);
  CHECK(payloads[0]["stopped"] == false);
  CHECK(payloads[0]["output"] == Json::array({"Time: 1.5", "oops"}));
  auto done = events(lines, "scenario_done");
  REQUIRE(done.size() == 1);
  CHECK(done[0]["wall_ms"].get<double>() < 5000);
  CHECK(done[0]["errors"].empty());
}

namespace {

/// Processes of process group `group` that are not zombies, from /proc/<pid>/stat.
int living_in_group(pid_t group) {
  int living = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    char state = 0;
    long ppid = 0, pgrp = 0;
    fields >> state >> ppid >> pgrp;
    if (pgrp == group && state != 'Z') ++living;
  }
  return living;
}

}  // namespace

TEST_CASE("agent scenario: payloads still running at the end are stopped with their children - a missing one says why",
          "[agent][scenario][payload]") {
  auto lines = run(R"({"version":1,"name":"p","duration_ms":300,"usable_cpus":[0],"workers":[
      {"id":0,"name":"s","type":"sleep"}],
    "payloads":[{"id":0,"name":"long","path":"/bin/sh","args":["-c","sleep 30 & sleep 30; echo never"]},
                {"id":1,"name":"gone","path":"/nonexistent/payload"},
                {"id":2,"name":"late","path":"/bin/true","start_ms":250000}]})");
  auto payloads = events(lines, "payload");
  REQUIRE(payloads.size() == 3);
  std::map<std::string, Json> by_name;
  for (const auto& p : payloads) by_name[p["name"]] = p;
  INFO(Json(payloads).dump());
  CHECK(by_name["long"]["stopped"] == true);
  CHECK(by_name["long"]["signal"] == SIGTERM);
  CHECK(by_name["long"]["ended_ms"].get<double>() >= 300);
  CHECK(by_name["gone"]["exit_code"] == 127);
  CHECK_THAT(by_name["gone"]["output"][0].get<std::string>(), Catch::Contains("exec /nonexistent/payload"));
  CHECK(by_name["late"]["stopped"] == true);
  CHECK_THAT(by_name["late"]["error"].get<std::string>(), Catch::Contains("not started"));
  // The group went with its leader: the background `sleep 30` is gone too. Counted from
  // /proc, not by kill(-group, 0): an orphan dies as a zombie of PID 1, and where PID 1
  // does not reap (some containers) the dead process still counts for kill().
  const pid_t group = by_name["long"]["pid"].get<pid_t>();
  for (int i = 0; i < 300 && living_in_group(group) > 0; ++i) ::usleep(10000);  // SIGKILL is asynchronous
  CHECK(living_in_group(group) == 0);
  auto done = events(lines, "scenario_done");
  REQUIRE(done.size() == 1);
  CHECK(done[0]["wall_ms"].get<double>() < 5000);
}

TEST_CASE("agent scenario: fault ops: scheduler_kill signals the scheduler, cpu_offline/cpu_online write the CPU's "
          "online file, and each failure is a step error", "[agent][scenario][fault]") {
  char dir[] = "/tmp/agent_fault_XXXXXX";
  REQUIRE(::mkdtemp(dir));
  const std::string root = dir;
  std::ofstream(root + "/state") << "enabled\n";  // a sched_ext that enables at once
  ::mkdir((root + "/cpu1").c_str(), 0755);
  std::ofstream(root + "/cpu1/online") << "1\n";
  ScenarioOptions options;
  options.sched_ext_root = root;
  options.cpu_sysfs_root = root;
  auto lines = run(R"({"version":1,"name":"t","duration_ms":600,"usable_cpus":[0],"workers":[],
      "scheduler":{"path":"/bin/sleep","args":["30"]},
      "steps":[{"at_ms":100,"ops":[{"op":"cpu_offline","cpu":1},{"op":"cpu_online","cpu":7}]},
               {"at_ms":200,"ops":[{"op":"scheduler_kill","signal":9}]},
               {"at_ms":400,"ops":[{"op":"scheduler_kill","signal":15}]}]})", options);
  std::ifstream online(root + "/cpu1/online");
  std::string value;
  online >> value;
  CHECK(value == "0");
  std::filesystem::remove_all(root);

  auto steps = events(lines, "step");
  REQUIRE(steps.size() == 3);
  INFO(Json(steps).dump());
  REQUIRE(steps[0]["errors"].size() == 1);  // there is no cpu7 here
  CHECK_THAT(steps[0]["errors"][0].get<std::string>(), Catch::Contains("cpu_online 7"));
  CHECK(steps[1]["errors"].empty());
  REQUIRE(steps[2]["errors"].size() == 1);  // killed already
  CHECK_THAT(steps[2]["errors"][0].get<std::string>(), Catch::Contains("no scheduler running"));
  bool died = false;
  for (const auto& e : events(lines, "scheduler"))
    if (e["state"] == "died") {
      died = true;
      CHECK(e["status"] == "signal 9");
      CHECK(e["at_ms"].get<double>() >= 200);
    }
  CHECK(died);
}
