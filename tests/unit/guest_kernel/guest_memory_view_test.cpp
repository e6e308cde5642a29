#include <catch2/catch.hpp>

#include <array>

#include "kvm/guest_kernel/guest_kernel.hpp"
#include "kvm/guest_memory.hpp"
#include "kvm/memory_layout.hpp"

using namespace ktstr;

TEST_CASE("physical_memory_of reads a live VM's RAM by GPA and refuses what is not RAM") {
  auto memory = std::make_shared<kvm::GuestMemory>(kvm::MemoryLayout(256, 1, 1));
  const std::array<uint8_t, 4> bytes{0xde, 0xad, 0xbe, 0xef};
  memory->write(0x123456, bytes);
  const auto view = guest_kernel::physical_memory_of(*memory, memory);
  std::array<uint8_t, 4> out{};
  REQUIRE(view->read(0x123456, out));
  CHECK(out == bytes);
  CHECK_FALSE(view->read((256ull << 20) - 2, out));  // runs past the end of RAM
  CHECK_FALSE(view->read(~0ull - 1, out));
  memory.reset();  // the view keeps the memory alive
  CHECK(view->read(0x123456, out));
  CHECK(out == bytes);
}
