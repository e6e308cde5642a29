#include <catch2/catch.hpp>

#include "kvm/guest_kernel/page_walk.hpp"
#include "tests/support/synthetic_kernel.hpp"

using namespace ktstr::guest_kernel;
using namespace ktstr::guest_kernel::testing;

namespace {

struct Tables {
  SparseRam ram{64 * kMiB};
  uint64_t next = 8 * kMiB;
  uint64_t root = 1 * kMiB;
};

}  // namespace

TEST_CASE("page_table_root drops the PCID, NOFLUSH and the PTI user-PGD bit of CR3") {
  const uint64_t kernel_pgd = 0x0000000012344000ull;  // 8 KiB aligned, as PTI allocates PGDs
  CHECK(page_table_root(kernel_pgd) == kernel_pgd);
  CHECK(page_table_root(kernel_pgd | 0x7ab) == kernel_pgd);
  CHECK(page_table_root(kernel_pgd | 0x1000 | 0x801 | (1ull << 63)) == kernel_pgd);
}

TEST_CASE("a 4-level walk resolves 4 KiB, 2 MiB and 1 GiB leaves and masks NX and PAT out of the address") {
  Tables t;
  PageTableBuilder b(t.ram, t.root, false, t.next);
  b.map_4k(0xffffc90000123000ull, 0x00456000, kNoExecute);
  b.map_2m(0xffffffff81200000ull, 0x02200000, kPatLarge | kNoExecute);
  b.map_1g(0xffff888140000000ull, 0x40000000, kNoExecute);

  CHECK(walk(t.ram, t.root, 0xffffc90000123abcull, false) == 0x00456abcull);
  CHECK(walk(t.ram, t.root, 0xffffffff81200234ull, false) == 0x02200234ull);  // PAT (bit 12) is no address bit
  CHECK(walk(t.ram, t.root, 0xffffffff813fffffull, false) == 0x023fffffull);
  CHECK(walk(t.ram, t.root, 0xffff888141234567ull, false) == 0x41234567ull);
  CHECK(walk(t.ram, t.root, 0xffff88817fffffffull, false) == 0x7fffffffull);
  // Neighbours of the mapped ranges are not present.
  CHECK_FALSE(walk(t.ram, t.root, 0xffffc90000124000ull, false));
  CHECK_FALSE(walk(t.ram, t.root, 0xffffffff81400000ull, false));
  CHECK_FALSE(walk(t.ram, t.root, 0xffff888180000000ull, false));
}

TEST_CASE("a 5-level walk uses VA bits 56:48 and maps addresses a 4-level walk calls non-canonical") {
  Tables t;
  PageTableBuilder b(t.ram, t.root, true, t.next);
  b.map_1g(0xff11000140000000ull, 0x40000000);
  b.map_2m(0xffffffff81200000ull, 0x02200000);
  b.map_4k(0xffa0000000001000ull, 0x00789000);

  CHECK(walk(t.ram, t.root, 0xff11000140000010ull, true) == 0x40000010ull);
  CHECK(walk(t.ram, t.root, 0xffffffff81200010ull, true) == 0x02200010ull);
  CHECK(walk(t.ram, t.root, 0xffa0000000001ff8ull, true) == 0x00789ff8ull);
  CHECK_FALSE(walk(t.ram, t.root, 0xff11000140000010ull, false));  // not canonical with 48 bits
  CHECK_FALSE(canonical(0xff11000140000010ull, false));
  CHECK(canonical(0xff11000140000010ull, true));
}

TEST_CASE("a walk refuses non-canonical addresses, absent entries, tables outside RAM and PS at the top levels") {
  Tables t;
  PageTableBuilder b(t.ram, t.root, false, t.next);
  b.map_2m(0xffffffff81000000ull, 0x01000000);

  CHECK_FALSE(walk(t.ram, t.root, 0x0000800000000000ull, false));
  CHECK_FALSE(walk(t.ram, t.root, 0xffff7fffffffffffull, false));
  CHECK_FALSE(walk(t.ram, t.root, 0x00007fffffffe000ull, false));  // canonical, not mapped

  // A PGD entry pointing 1 TiB away (outside the 64 MiB of RAM).
  t.ram.write_u64(t.root + 8 * 1, (1ull << 40) | kPresentWritable);
  CHECK_FALSE(walk(t.ram, t.root, 0x0000008000000000ull, false));
  // PS set in a PGD entry is reserved.
  t.ram.write_u64(t.root + 8 * 2, 0x40000000ull | kPresentWritable | kLargeLeaf);
  CHECK_FALSE(walk(t.ram, t.root, 0x0000010000000000ull, false));
  // The root itself outside RAM.
  CHECK_FALSE(walk(t.ram, 1ull << 45, 0xffffffff81000000ull, false));
  CHECK(walk(t.ram, t.root, 0xffffffff81000000ull, false) == 0x01000000ull);
}

TEST_CASE("a PTI user PGD lacks the direct map - page_table_root of its CR3 walks the kernel PGD") {
  SyntheticKernel k;
  const uint64_t user_cr3 = k.pti_user_pgd_pa | 0x801 | (1ull << 63);
  REQUIRE((user_cr3 & (1ull << 12)) != 0);
  const uint64_t direct = k.page_offset_base + 0x1234;
  CHECK_FALSE(walk(*k.ram, k.pti_user_pgd_pa, direct, false));
  CHECK(walk(*k.ram, page_table_root(user_cr3), direct, false) == 0x1234ull);
  CHECK(walk(*k.ram, k.pti_user_pgd_pa, k.input().lstar, false) == k.options.pa_text + 0x00c00040);
}
