#include <catch2/catch.hpp>

#include "apps/protocol/agent_events.hpp"
#include "apps/cli/verdict/topology_check.hpp"
#include "kvm/topology.hpp"

using namespace ktstr::cli;
namespace protocol = ktstr::protocol;
using ktstr::kvm::Topology;

namespace {

// What a guest that saw exactly the declared topology would report.
protocol::TopologyReport faithful_report(const Topology& t) {
  protocol::TopologyReport report;
  std::vector<uint32_t> online;
  for (const auto& p : t.cpus()) {
    online.push_back(p.cpu);
    report.cpus.push_back({p.cpu, p.package, p.die, p.core_id, t.thread_siblings(p.cpu), t.llc_cpus(p.cpu), 3u,
                           p.node});
  }
  report.online = online;
  report.possible = online;
  return report;
}

}  // namespace

TEST_CASE("a report equal to the declaration has no mismatches") {
  Topology t({2, 4, 3, 2});
  auto report = faithful_report(t);
  CHECK(check_topology(t, report).empty());
  auto json = topology_check_json(t, report, {});
  CHECK(json["match"] == true);
  CHECK(json["declared"]["cpus"].size() == 24);
  CHECK(json["observed"]["cpus"][7]["llc"] == "6-11");
  CHECK_THAT(render_topology_table(t, report, {}), Catch::Contains("topology matches the declaration"));
}

TEST_CASE("a real 4-CPU guest report matches a 1,1,4,1 declaration") {
  auto parsed = protocol::parse_agent_line(
      R"({"event":"topology","seq":2,"online":"0-3","possible":"0-3","cpus":[{"cpu":0,"package":0,"die":0,"core":0,"thread_siblings":"0","llc":"0-3","llc_level":3,"node":0},{"cpu":1,"package":0,"die":0,"core":1,"thread_siblings":"1","llc":"0-3","llc_level":3,"node":0},{"cpu":2,"package":0,"die":0,"core":2,"thread_siblings":"2","llc":"0-3","llc_level":3,"node":0},{"cpu":3,"package":0,"die":0,"core":3,"thread_siblings":"3","llc":"0-3","llc_level":3,"node":0}]})");
  auto& report = std::get<protocol::TopologyReport>(std::get<protocol::AgentEvent>(parsed));
  CHECK(check_topology(Topology({1, 1, 4, 1}), report).empty());
  CHECK(check_topology(Topology({1, 2, 2, 1}), report).size() == 4);  // llc of every CPU differs
}

TEST_CASE("each per-CPU field mismatch names the cpu, field and both values") {
  Topology t({2, 4, 3, 2});
  auto report = faithful_report(t);
  auto& cpu7 = report.cpus[7];

  SECTION("package") {
    cpu7.package = 1;
    CHECK(check_topology(t, report) == std::vector<TopologyMismatch>{{7u, "package", "0", "1"}});
  }
  SECTION("die") {
    cpu7.die = 1;
    CHECK(check_topology(t, report) == std::vector<TopologyMismatch>{{7u, "die", "0", "1"}});
  }
  SECTION("core_id") {
    cpu7.core_id = 0;
    CHECK(check_topology(t, report) == std::vector<TopologyMismatch>{{7u, "core_id", "4", "0"}});
  }
  SECTION("thread siblings") {
    cpu7.thread_siblings = std::vector<uint32_t>{7};
    CHECK(check_topology(t, report) == std::vector<TopologyMismatch>{{7u, "thread_siblings", "6-7", "7"}});
  }
  SECTION("llc") {
    cpu7.llc = std::vector<uint32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    CHECK(check_topology(t, report) == std::vector<TopologyMismatch>{{7u, "llc", "6-11", "0-11"}});
  }
  SECTION("node") {
    cpu7.node = 1;
    CHECK(check_topology(t, report) == std::vector<TopologyMismatch>{{7u, "node", "0", "1"}});
  }
  SECTION("a field the guest could not read") {
    cpu7.llc.reset();
    cpu7.node.reset();
    CHECK(check_topology(t, report) ==
          std::vector<TopologyMismatch>{{7u, "llc", "6-11", "missing"}, {7u, "node", "0", "missing"}});
  }
}

TEST_CASE("a single declared CPU is online as \"0\", as sysfs writes it") {
  Topology t({1, 1, 1, 1});
  CHECK(check_topology(t, faithful_report(t)).empty());
}

TEST_CASE("online set and CPU entries are checked against 0..n-1") {
  Topology t({1, 1, 4, 1});
  auto report = faithful_report(t);

  SECTION("a CPU that did not come online") {
    report.online = std::vector<uint32_t>{0, 1, 2};
    report.cpus.pop_back();
    CHECK(check_topology(t, report) == std::vector<TopologyMismatch>{{std::nullopt, "online", "0-3", "0-2"},
                                                                      {3u, "cpu_entry", "reported", "missing"}});
  }
  SECTION("an online list the guest could not read") {
    report.online.reset();
    CHECK(check_topology(t, report) == std::vector<TopologyMismatch>{{std::nullopt, "online", "0-3", "missing"}});
  }
  SECTION("a CPU that was never declared") {
    report.online = std::vector<uint32_t>{0, 1, 2, 3, 4};
    report.cpus.push_back({4, 0u, 0u, 4u, std::vector<uint32_t>{4}, std::vector<uint32_t>{0, 1, 2, 3, 4}, 3u, 0u});
    CHECK(check_topology(t, report) == std::vector<TopologyMismatch>{{std::nullopt, "online", "0-3", "0-4"},
                                                                      {4u, "cpu_entry", "absent", "reported"}});
  }
}

TEST_CASE("the table marks mismatching rows and cells") {
  Topology t({1, 1, 2, 1});
  auto report = faithful_report(t);
  report.cpus[1].core_id = 0;
  report.cpus[1].llc = std::vector<uint32_t>{1};
  auto mismatches = check_topology(t, report);
  auto table = render_topology_table(t, report, mismatches);
  CHECK(table ==
        "  cpu | package | die | core         | siblings | llc            | node\n"
        "  0   | 0       | 0   | 0            | 0        | 0-1            | 0\n"
        "! 1   | 0       | 0   | want 1 got 0 | 1        | want 0-1 got 1 | 0\n"
        "online: declared 0-1, observed 0-1\n"
        "2 mismatch(es), rows marked with !\n");

  auto json = topology_check_json(t, report, mismatches);
  CHECK(json["match"] == false);
  REQUIRE(json["mismatches"].size() == 2);
  CHECK(json["mismatches"][0] == nlohmann::json{{"cpu", 1}, {"field", "core_id"}, {"declared", "1"}, {"observed", "0"}});
  CHECK(json["observed"]["cpus"][1]["llc_level"] == 3);
}
