#include <catch2/catch.hpp>

#include <asm/bootparam.h>

#include <cstring>

#include "kvm/boot.hpp"
#include "kvm/error.hpp"
#include "kvm/layout.hpp"
#include "tests/support/fake_bzimage.hpp"

using namespace ktstr::kvm;

TEST_CASE("load_linux writes boot_params with e820, command line, initrd and RSDP") {
  MemoryLayout layout(256, 1, 2);
  GuestMemory memory(layout);
  auto kernel = BzImage::parse(ktstr::test::fake_bzimage());
  std::vector<uint8_t> initrd(10000, 0x5A);
  auto image = load_linux(memory, layout, kernel, "console=ttyS0 rdinit=/init", initrd, 0xE0000);

  CHECK(image.entry == layout::kHighMemory + 0x200);
  boot_params params;
  REQUIRE(memory.read(layout::kZeroPage, {reinterpret_cast<uint8_t*>(&params), sizeof params}));
  CHECK(params.hdr.header == 0x53726448);
  CHECK(params.hdr.type_of_loader == 0xFF);
  CHECK(params.hdr.cmd_line_ptr == layout::kCmdline);
  CHECK(params.acpi_rsdp_addr == 0xE0000);
  CHECK(params.hdr.ramdisk_size == initrd.size());
  CHECK(params.hdr.ramdisk_image == image.initrd_gpa);
  CHECK(image.initrd_gpa % (2 << 20) == 0);
  CHECK(image.initrd_gpa + initrd.size() <= layout.low_ram_end());
  REQUIRE(params.e820_entries == 3);
  CHECK(params.e820_table[2].addr == layout::kHighMemory);
  CHECK(params.e820_table[2].addr + params.e820_table[2].size == 256ull << 20);

  char cmdline[64] = {};
  REQUIRE(memory.read(layout::kCmdline, {reinterpret_cast<uint8_t*>(cmdline), sizeof cmdline}));
  CHECK(std::string(cmdline) == "console=ttyS0 rdinit=/init");
  uint8_t first = 0;
  REQUIRE(memory.read(image.initrd_gpa, {&first, 1}));
  CHECK(first == 0x5A);
  uint8_t entry[2];
  REQUIRE(memory.read(image.entry, entry));
  CHECK(entry[0] == 0xF4);
}

TEST_CASE("a command line longer than the kernel accepts is refused") {
  MemoryLayout layout(256, 1, 2);
  GuestMemory memory(layout);
  auto kernel = BzImage::parse(ktstr::test::fake_bzimage());
  std::string longline(3000, 'x');
  CHECK_THROWS_AS(load_linux(memory, layout, kernel, longline, {}, 0), Error);
}

TEST_CASE("an initramfs that does not fit next to the kernel is a memory error") {
  MemoryLayout layout(140, 1, 2);
  GuestMemory memory(layout);
  auto kernel = BzImage::parse(ktstr::test::fake_bzimage());
  std::vector<uint8_t> initrd(130 << 20);
  try {
    load_linux(memory, layout, kernel, "x", initrd, 0);
    FAIL("accepted");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::memory);
  }
}

TEST_CASE("identity page tables map the first 4 GiB with 2 MiB pages") {
  MemoryLayout layout(256, 1, 2);
  GuestMemory memory(layout);
  write_long_mode_tables(memory);
  uint64_t pml4 = 0, pdpt3 = 0, pd_entry = 0;
  REQUIRE(memory.read(layout::kPml4, {reinterpret_cast<uint8_t*>(&pml4), 8}));
  CHECK((pml4 & ~0xFFFull) == layout::kPdpt);
  REQUIRE(memory.read(layout::kPdpt + 3 * 8, {reinterpret_cast<uint8_t*>(&pdpt3), 8}));
  CHECK((pdpt3 & ~0xFFFull) == layout::kPd + 3 * 4096);
  // PD 3, entry 511 maps 4 GiB - 2 MiB.
  REQUIRE(memory.read(layout::kPd + 3 * 4096 + 511 * 8, {reinterpret_cast<uint8_t*>(&pd_entry), 8}));
  CHECK((pd_entry & ~0xFFFull) == (4ull << 30) - (2 << 20));
  CHECK((pd_entry & 0x83) == 0x83);
  auto sregs = long_mode_sregs(kvm_sregs{});
  CHECK(sregs.cs.l == 1);
  CHECK(sregs.cs.selector == 0x10);
  CHECK(sregs.ds.selector == 0x18);
  CHECK((sregs.efer & 0x500) == 0x500);
  CHECK(sregs.cr3 == layout::kPml4);
}

TEST_CASE("guest memory refuses accesses that leave RAM") {
  MemoryLayout layout(256, 1, 2);
  GuestMemory memory(layout);
  CHECK(memory.host_ptr((256ull << 20) - 8, 8) != nullptr);
  CHECK(memory.host_ptr((256ull << 20) - 8, 9) == nullptr);
  CHECK(memory.host_ptr(~0ull - 4, 8) == nullptr);
  uint8_t b[4];
  CHECK_FALSE(memory.read(1ull << 40, b));
}
