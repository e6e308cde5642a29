#include <catch2/catch.hpp>
#include <random>

#include "kvm/guest_kernel/btf_layout.hpp"
#include "kvm/guest_kernel/image_error.hpp"
#include "tests/unit/guest_kernel/kernel_images.hpp"

using namespace ktstr;
using guest_kernel::BtfLayout;

namespace {

uint32_t offset_of(const BtfLayout& btf, std::string_view path) {
  const auto found = btf.member(path);
  INFO(path << ": " << found.why);
  REQUIRE(found.field.present());
  return found.field.offset;
}

}  // namespace

TEST_CASE("BTF: the fixture's offsets are the fact sheet's", "[guest_kernel][btf]") {
  const auto kernel = test::scx_fixture_kernel();
  if (!kernel) {
    WARN("test not run: no fixture kernel under " << test::fixtures_dir());
    return;
  }
  const auto section = test::payload_elf(kernel->bzimage).section(".BTF");
  REQUIRE(section);
  CHECK(section->size() == 0x46dd73);
  const BtfLayout btf(*section);
  CHECK(offset_of(btf, "rq.nr_running") == 0x4);
  CHECK(offset_of(btf, "rq.cfs.h_nr_queued") == 0x94);
  CHECK(offset_of(btf, "rq.scx.local_dsq.nr") == 0x908);
  CHECK(offset_of(btf, "rq.scx.runnable_list") == 0x938);
  CHECK(offset_of(btf, "rq.scx.nr_running") == 0x960);
  CHECK(offset_of(btf, "rq.scx.flags") == 0x964);
  CHECK(offset_of(btf, "rq.curr") == 0xaf8);  // inside an anonymous union with donor
  CHECK(offset_of(btf, "rq.clock") == 0xb30);
  CHECK(offset_of(btf, "rq.cpu") == 0xbe8);
  CHECK(offset_of(btf, "task_struct.pid") == 0x640);
  CHECK(offset_of(btf, "task_struct.comm") == 0x828);
  CHECK(offset_of(btf, "task_struct.scx.runnable_node") == 0x318);
  CHECK(offset_of(btf, "task_struct.scx.runnable_at") == 0x328);
  CHECK(offset_of(btf, "sched_ext_ops.name") == 0x128);
  CHECK(btf.member("task_struct.comm").field.size == 16);
  CHECK(btf.member("rq.scx.runnable_list").field.size == 16);
  CHECK(btf.struct_size("rq") == 0xe00u);
  CHECK(btf.percpu_offset("runqueues") == 0x2f4c0u);
  CHECK(btf.enum_value("SCX_EXIT_ERROR_STALL") == 1026);
  CHECK(btf.enum_value("SCX_OPS_DISABLED") == 3);
  // h_nr_running was renamed in this kernel: the alternative is what resolves.
  const auto missing = btf.member("rq.cfs.h_nr_running");
  CHECK_FALSE(missing.field.present());
  CHECK(missing.why == "rq.cfs.h_nr_running: no member h_nr_running in cfs");
  CHECK(btf.first_member({"rq.cfs.h_nr_queued", "rq.cfs.h_nr_running"}).field.offset == 0x94);
  CHECK(btf.member("no_such_struct.x").why == "no_such_struct.x: no struct no_such_struct in BTF");
}

TEST_CASE("BTF: Debian 6.1's offsets, and no sched_ext", "[guest_kernel][btf]") {
  const auto kernel = test::debian_kernel();
  if (!kernel) {
    WARN("test not run: no Debian kernel in the cache (scripts/fetch-kernel.sh)");
    return;
  }
  const auto section = test::payload_elf(kernel->bzimage).section(".BTF");
  REQUIRE(section);
  const BtfLayout btf(*section);
  CHECK(offset_of(btf, "rq.curr") == 0x960);
  CHECK(offset_of(btf, "rq.clock") == 0x990);
  CHECK(offset_of(btf, "rq.cpu") == 0xa70);
  CHECK(offset_of(btf, "task_struct.pid") == 0x970);
  CHECK(offset_of(btf, "task_struct.comm") == 0xba0);
  CHECK(offset_of(btf, "rq.cfs.h_nr_running") == 0x94);
  CHECK(btf.percpu_offset("runqueues") == 0x31c40u);
  CHECK_FALSE(btf.member("rq.scx.nr_running").field.present());
  CHECK_FALSE(btf.struct_size("sched_ext_ops"));
}

TEST_CASE("BTF: damaged BTF gives an error or answers, never a crash or a hang", "[guest_kernel][btf][mutation]") {
  const auto kernel = test::scx_fixture_kernel();
  if (!kernel) {
    WARN("test not run: no fixture kernel under " << test::fixtures_dir());
    return;
  }
  const auto section = test::payload_elf(kernel->bzimage).section(".BTF");
  REQUIRE(section);
  const std::vector<uint8_t> intact(section->begin(), section->end());
  std::mt19937 rng(61);
  size_t refused = 0, parsed = 0, wrong = 0;
  for (int round = 0; round < 200; ++round) {
    auto damaged = intact;
    const int hits = 1 + static_cast<int>(rng() % 16);
    for (int h = 0; h < hits; ++h) {
      // The header and the start of the type section most rounds, anywhere the rest.
      const size_t at = (round % 3 == 0) ? rng() % damaged.size() : rng() % 4096;
      damaged[at] = (round & 1) ? 0 : static_cast<uint8_t>(damaged[at] ^ (1u << (rng() % 8)));
    }
    try {
      const BtfLayout btf(damaged);
      ++parsed;
      for (auto path : {"rq.scx.local_dsq.nr", "rq.curr", "task_struct.scx.runnable_node", "rq.cfs.h_nr_queued"}) {
        const auto f = btf.member(path);
        if (f.field.present() != f.why.empty()) ++wrong;
      }
      (void)btf.percpu_offset("runqueues");
      (void)btf.struct_size("rq");
      (void)btf.enum_value("SCX_EXIT_DONE");
    } catch (const guest_kernel::ImageError&) {
      ++refused;
    }
  }
  WARN("BTF mutation: " << refused << " refused, " << parsed << " parsed of 200 rounds");
  CHECK(refused + parsed == 200);
  CHECK(refused > 0);
  CHECK(wrong == 0);
}

TEST_CASE("BTF: an empty or garbage section is refused with the reason first", "[guest_kernel][btf]") {
  CHECK_THROWS_WITH(BtfLayout(std::span<const uint8_t>{}), Catch::StartsWith("no BTF"));
  const std::vector<uint8_t> garbage(256, 0x41);
  CHECK_THROWS_WITH(BtfLayout(garbage), Catch::StartsWith("BTF not readable"));
}
