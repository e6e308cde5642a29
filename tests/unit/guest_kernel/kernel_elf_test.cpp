#include <catch2/catch.hpp>
#include <cstring>
#include <random>

#include "kvm/guest_kernel/image_error.hpp"
#include "kvm/guest_kernel/kernel_elf.hpp"
#include "tests/unit/guest_kernel/kernel_images.hpp"

using namespace ktstr;
using guest_kernel::KernelElf;

TEST_CASE("ELF: not an ELF, or a cut-off one, is an error", "[guest_kernel][elf]") {
  CHECK_THROWS_WITH(KernelElf(std::vector<uint8_t>(100, 0)), Catch::Contains("not an ELF"));
  std::vector<uint8_t> header(64, 0);
  std::memcpy(header.data(), "\x7f" "ELF\x01", 5);  // ELFCLASS32
  CHECK_THROWS_AS(KernelElf(header), guest_kernel::ImageError);
}

TEST_CASE("ELF: the fixture's headers damaged at random give errors or bounded reads", "[guest_kernel][elf][mutation]") {
  const auto kernel = test::scx_fixture_kernel();
  if (!kernel) {
    WARN("test not run: no fixture kernel under " << test::fixtures_dir());
    return;
  }
  const auto& elf = test::payload_elf(kernel->bzimage);
  REQUIRE(elf.read(0xffffffff81000000ULL, 16));
  CHECK_FALSE(elf.read(0xffffffff81000000ULL - 1, 16));
  CHECK_FALSE(elf.read(0x10, ~size_t{0}));
  // Damage the ELF header, program headers and section headers (e_shoff) of one copy,
  // undoing each round's damage before the next.
  std::vector<uint8_t> copy(elf.bytes().begin(), elf.bytes().end());
  uint64_t shoff = 0;
  std::memcpy(&shoff, copy.data() + 0x28, 8);
  REQUIRE(shoff + 4096 < copy.size());
  std::mt19937 rng(5);
  size_t refused = 0, opened = 0;
  constexpr int kRounds = 50;  // each round copies the 40 MiB image into a KernelElf
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::pair<size_t, uint8_t>> undo;
    for (int h = 0; h < 1 + static_cast<int>(rng() % 6); ++h) {
      const size_t at = (round & 1) ? rng() % 512 : shoff + rng() % 4096;
      undo.emplace_back(at, copy[at]);
      copy[at] ^= static_cast<uint8_t>(1u << (rng() % 8));
    }
    try {
      const KernelElf e(copy);
      ++opened;
      for (const auto& s : e.segments()) (void)e.read(s.vaddr, s.file_size);
      if (auto btf = e.section(".BTF")) CHECK(btf->data() + btf->size() <= e.bytes().data() + e.bytes().size());
    } catch (const guest_kernel::ImageError&) {
      ++refused;
    }
    for (auto it = undo.rbegin(); it != undo.rend(); ++it) copy[it->first] = it->second;
  }
  WARN("ELF mutation: " << refused << " refused, " << opened << " opened of " << kRounds << " rounds");
  CHECK(refused + opened == kRounds);
}
