#include <catch2/catch.hpp>

#include "kvm/error.hpp"
#include "kvm/layout.hpp"
#include "kvm/memory_layout.hpp"

using namespace ktstr::kvm;

TEST_CASE("memory below the minimum for the topology is refused") {
  CHECK(MemoryLayout::minimum_mib(1, 2) == 132);
  CHECK_THROWS_AS(MemoryLayout(100, 1, 2), Error);
  CHECK_THROWS_AS(MemoryLayout(200, 4, 4), Error);  // 4 nodes need 256 + 8
  CHECK_NOTHROW(MemoryLayout(264, 4, 4));
}

TEST_CASE("e820 reserves the EBDA/BIOS area and maps the rest as RAM") {
  MemoryLayout m(512, 1, 2);
  auto map = m.e820();
  REQUIRE(map.size() == 3);
  CHECK(map[0].addr == 0);
  CHECK(map[0].size == layout::kEbdaStart);
  CHECK(map[0].type == kE820Ram);
  CHECK(map[1].type == kE820Reserved);
  CHECK(map[1].addr + map[1].size == layout::kHighMemory);
  CHECK(map[2].addr == layout::kHighMemory);
  CHECK(map[2].addr + map[2].size == 512ull << 20);
}

TEST_CASE("memory above the MMIO hole continues at 4 GiB and nodes split it evenly") {
  MemoryLayout m(4096, 2, 4);
  REQUIRE(m.slots().size() == 2);
  CHECK(m.slots()[0].end() == layout::kMmioHoleStart);
  CHECK(m.slots()[1].base == layout::kFourGiB);
  CHECK(m.slots()[1].size == (4096ull << 20) - layout::kMmioHoleStart);
  uint64_t per_node[2] = {0, 0};
  for (const auto& r : m.node_ranges()) per_node[r.node] += r.size;
  CHECK(per_node[0] == 2048ull << 20);
  CHECK(per_node[1] == 2048ull << 20);
  // Node 1 starts where node 0 ends and wraps across the hole.
  CHECK(m.node_ranges()[1].base == 2048ull << 20);
  CHECK(m.node_ranges().back().base == layout::kFourGiB);
  auto map = m.e820();
  CHECK(map.back().addr == layout::kFourGiB);
}
