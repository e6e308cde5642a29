#include <catch2/catch.hpp>

#include "kvm/error.hpp"
#include "kvm/topology.hpp"

using namespace ktstr::kvm;

TEST_CASE("topology spec parses N,L,C,T and rejects anything else") {
  auto t = TopologySpec::parse("2,4,3,2");
  REQUIRE(t);
  CHECK(*t == TopologySpec{2, 4, 3, 2});
  CHECK_FALSE(TopologySpec::parse("1,1,2"));
  CHECK_FALSE(TopologySpec::parse("1,1,2,1,1"));
  CHECK_FALSE(TopologySpec::parse("1,a,2,1"));
  CHECK_FALSE(TopologySpec::parse("1,-1,2,1"));
  CHECK_FALSE(TopologySpec::parse(""));
}

TEST_CASE("topology rejects zero counts and LLCs that do not divide over nodes") {
  CHECK_THROWS_AS(Topology({1, 0, 2, 1}), Error);
  try {
    Topology({2, 3, 2, 1});
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::topology);
  }
}

TEST_CASE("topology rejects more vCPUs than supported") {
  try {
    Topology({1, 1, 129, 1});
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::too_many_vcpus);
  }
  CHECK(Topology({2, 8, 8, 2}).cpu_count() == 128);
}

TEST_CASE("APIC IDs pack thread, core, LLC and package fields") {
  Topology t({2, 4, 3, 2});  // 2 packages x 2 LLCs x 3 cores x 2 threads
  CHECK(t.thread_bits() == 1);
  CHECK(t.core_bits() == 2);
  CHECK(t.llc_bits() == 1);
  CHECK(t.package_shift() == 4);
  const auto& c = t.cpu(7);  // package 0, LLC 1, core 0, thread 1
  CHECK(c.package == 0);
  CHECK(c.llc == 1);
  CHECK(c.thread == 1);
  CHECK(c.apic_id == ((1u << 3) | 1u));
  CHECK(c.core_id == (1u << 2));
  CHECK(t.cpu(12).apic_id == 16);  // first CPU of package 1
  CHECK(t.cpu(12).node == 1);
  CHECK(t.thread_siblings(7) == std::vector<uint32_t>{6, 7});
  CHECK(t.llc_cpus(7) == std::vector<uint32_t>{6, 7, 8, 9, 10, 11});
}

TEST_CASE("cpu lists format and parse like sysfs") {
  CHECK(format_cpu_list({0, 1, 2, 3, 6, 8, 9}) == "0-3,6,8-9");
  CHECK(format_cpu_list({}) == "");
  CHECK(parse_cpu_list("0-3,6\n") == std::vector<uint32_t>{0, 1, 2, 3, 6});
  CHECK_FALSE(parse_cpu_list("3-1"));
  CHECK_FALSE(parse_cpu_list("0,0"));
  CHECK_FALSE(parse_cpu_list("0-999999"));
  CHECK_FALSE(parse_cpu_list("x"));
}
