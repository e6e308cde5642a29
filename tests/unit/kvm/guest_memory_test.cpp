// Guest RAM's one-access store (a guest_write fault's): little-endian, only the word's
// own bytes, refused off RAM, misaligned or at another width.
#include <catch2/catch.hpp>

#include <array>

#include "kvm/guest_memory.hpp"
#include "kvm/memory_layout.hpp"

using namespace ktstr::kvm;

TEST_CASE("guest memory: store writes exactly the word's bytes, little-endian") {
  MemoryLayout layout(256, 1, 2);
  GuestMemory memory(layout);
  const uint64_t gpa = 0x200000;
  std::array<uint8_t, 16> ones;
  ones.fill(0xff);
  memory.write(gpa, ones);
  REQUIRE(memory.store(gpa + 8, 0x1122334455667788ull, 4));
  std::array<uint8_t, 16> back{};
  REQUIRE(memory.read(gpa, back));
  CHECK(back[7] == 0xff);
  CHECK(back[8] == 0x88);
  CHECK(back[11] == 0x55);
  CHECK(back[12] == 0xff);  // only 4 bytes
  REQUIRE(memory.store(gpa, 0x0102030405060708ull, 8));
  REQUIRE(memory.read(gpa, back));
  CHECK(back[0] == 0x08);
  CHECK(back[7] == 0x01);
  REQUIRE(memory.store(gpa + 1, 0xab, 1));
  REQUIRE(memory.read(gpa, back));
  CHECK(back[1] == 0xab);
}

TEST_CASE("guest memory: store refuses a misaligned word, a width other than 1, 2, 4, 8 and an address off RAM") {
  MemoryLayout layout(256, 1, 2);
  GuestMemory memory(layout);
  CHECK_FALSE(memory.store(0x200004, 1, 8));
  CHECK_FALSE(memory.store(0x200001, 1, 2));
  CHECK_FALSE(memory.store(0x200000, 1, 3));
  CHECK_FALSE(memory.store(0x200000, 1, 16));
  CHECK_FALSE(memory.store(uint64_t{1} << 40, 1, 8));
  CHECK(memory.store(0x200002, 1, 2));
}
