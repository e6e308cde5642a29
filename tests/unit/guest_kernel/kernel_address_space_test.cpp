#include <catch2/catch.hpp>

#include <array>
#include <cstring>

#include "kvm/guest_kernel/kernel_address_space.hpp"
#include "tests/support/synthetic_kernel.hpp"

using namespace ktstr::guest_kernel;
using namespace ktstr::guest_kernel::testing;

namespace {

KernelAddressSpace space_of(const SyntheticKernel& k) {
  return KernelAddressSpace(k.ram, {.image_va = k.image_va(SyntheticKernel::kTextLink), .image_pa = k.options.pa_text,
                                    .page_offset_base = k.page_offset_base, .pgd_pa = k.swapper_pgd_pa,
                                    .five_level = k.options.five_level});
}

}  // namespace

TEST_CASE("the kernel image, the direct map and vmalloc pages translate to their physical pages") {
  for (bool five_level : {false, true}) {
    SyntheticKernel k({.five_level = five_level});
    auto space = space_of(k);
    CAPTURE(five_level);
    CHECK(space.translate(k.input().lstar) == k.options.pa_text + 0x00c00040);
    CHECK(space.translate(k.page_offset_base + 0x1234567) == 0x1234567ull);
    CHECK(space.translate(k.rq(2)) == 256 * kMiB + 2 * kMiB + 0x2f000);  // CPU 2's vmalloc area
    CHECK_FALSE(space.translate(k.page_offset_base + SyntheticKernel::kRamSize));  // mapped by the 1 GiB leaf, not RAM
    CHECK_FALSE(space.translate(0x0000000000401000ull));
  }
}

TEST_CASE("a read spanning two vmalloc pages follows each page to its own physical page") {
  SyntheticKernel k;
  uint64_t next = 200 * kMiB;
  PageTableBuilder b(*k.ram, k.swapper_pgd_pa, false, next);
  const uint64_t va = 0xffffc90004000000ull;
  b.map_4k(va, 300 * kMiB);            // two virtually adjacent pages,
  b.map_4k(va + 4096, 100 * kMiB);     // far apart physically
  const uint8_t first[] = {0x11, 0x22};
  const uint8_t second[] = {0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
  k.ram->write(300 * kMiB + 4094, first);  // the last two bytes of the first page
  k.ram->write(100 * kMiB, second);        // the first six of the second
  auto space = space_of(k);
  const auto r = space.read_u64(va + 4094);
  REQUIRE(r.ok);
  CHECK(r.value == 0x8877665544332211ull);
  // The same eight bytes are not contiguous physically: what follows 300 MiB + 4096 is zeros.
  CHECK(space.read_u64(k.page_offset_base + 300 * kMiB + 4094).value == 0x2211ull);
  // A read running off the mapped pages fails as a whole.
  std::array<uint8_t, 16> out{};
  CHECK_FALSE(space.read_bytes(va + 8190, out));
}

TEST_CASE("read_string keeps the printable prefix, bounded by max, and fails only on an unreadable start") {
  SyntheticKernel k;
  auto space = space_of(k);
  const uint64_t at = k.page_offset_base + 0x500000;
  k.write_string(at, "kworker/0:1");
  CHECK(space.read_string(at, 15) == "kworker/0:1");
  CHECK(space.read_string(at, 4) == "kwor");
  const uint8_t odd[] = {'a', 'b', 0x07, 'c', 0};
  k.ram->write(0x600000, odd);
  CHECK(space.read_string(k.page_offset_base + 0x600000, 15) == "ab");
  CHECK_FALSE(space.read_string(0xffffc900ffff0000ull, 15));
  CHECK_FALSE(space.read_string(0x0000123400000000ull, 15));
  // A string that runs into an unmapped page keeps what was readable.
  uint64_t next = 200 * kMiB;
  PageTableBuilder b(*k.ram, k.swapper_pgd_pa, false, next);
  b.map_4k(0xffffc90005000000ull, 310 * kMiB);
  const uint8_t tail[] = {'x', 'y', 'z'};
  k.ram->write(310 * kMiB + 4093, tail);
  CHECK(space.read_string(0xffffc90005000000ull + 4093, 15) == "xyz");
}

TEST_CASE("plausible_pointer wants a canonical upper-half address with the asked alignment") {
  SyntheticKernel k;
  auto space = space_of(k);
  CHECK(space.plausible_pointer(0xffff888100000040ull, 8));
  CHECK_FALSE(space.plausible_pointer(0xffff888100000043ull, 8));
  CHECK_FALSE(space.plausible_pointer(0x00007fff00000000ull, 8));  // user half
  CHECK_FALSE(space.plausible_pointer(0x0000800000000000ull, 8));  // non-canonical
  CHECK_FALSE(space.plausible_pointer(0xff11000000000000ull, 8));  // 5-level direct map, 4-level guest
  CHECK_FALSE(space.plausible_pointer(0, 8));
}

TEST_CASE("addresses past the image area (modules) are walked, not taken for the image") {
  // Slide 700 MiB: the image rule would put the first module page at 372 MiB, inside RAM.
  SyntheticKernel k({.slide = 700 * kMiB});
  uint64_t next = 200 * kMiB;
  PageTableBuilder b(*k.ram, k.swapper_pgd_pa, false, next);
  const uint64_t module = 0xffffffffc0001000ull;
  b.map_4k(module, 320 * kMiB);
  auto space = space_of(k);
  CHECK(space.translate(module + 0x10) == 320 * kMiB + 0x10);
  CHECK_FALSE(space.translate(module + 0x1000));  // the next module page is not mapped
  // Below the module area the image rule still holds (the image is one physical block).
  CHECK(space.translate(k.image_va(SyntheticKernel::kTextLink) + 200 * kMiB) == 264 * kMiB);
}
