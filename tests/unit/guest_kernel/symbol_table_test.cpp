#include <catch2/catch.hpp>

#include "kvm/guest_kernel/image_error.hpp"
#include "kvm/guest_kernel/symbol_table.hpp"

using namespace ktstr::guest_kernel;

TEST_CASE("symbol table: lookups by name and by address, and rip symbolization", "[guest_kernel][symbols]") {
  const auto table = parse_system_map(
      "ffffffff81000000 T _text\n"
      "ffffffff81000000 T startup_64\n"
      "ffffffff81e00080 T entry_SYSCALL_64\n"
      "ffffffff82a55ec8 d scx_exit_kind\n"
      "ffffffff82a55ec8 d scx_exit_kind\n"
      "000000000002f4c0 D runqueues\n");
  CHECK(table.size() == 6);
  CHECK(table.address_of("runqueues") == 0x2f4c0);
  CHECK(table.find("scx_exit_kind")->type == 'd');
  CHECK_FALSE(table.find("scx_root"));
  CHECK(table.symbolize(0xffffffff81e00080) == "entry_SYSCALL_64");
  CHECK(table.symbolize(0xffffffff81e000a5) == "entry_SYSCALL_64+0x25");
  CHECK(table.symbolize(0xffffffff81000010) == "startup_64+0x10");  // the last of equal addresses
  CHECK(table.symbolize(0x10) == "0x10");
  CHECK(table.next_address(0xffffffff81000000) == 0xffffffff81e00080);
  const SymbolTable copy = table;  // the name index survives a copy
  CHECK(copy.address_of("entry_SYSCALL_64") == 0xffffffff81e00080);
}

TEST_CASE("symbol table: a malformed System.map names its line", "[guest_kernel][symbols]") {
  CHECK_THROWS_WITH(parse_system_map("ffffffff81000000 T _text\nnot a symbol\n"), Catch::Contains("line 2"));
  CHECK_THROWS_WITH(parse_system_map("ffffffff81000000 T \n"), Catch::Contains("line 1"));
  CHECK_THROWS_AS(parse_system_map(""), ImageError);
  CHECK_THROWS_WITH(load_system_map("/nonexistent/System.map"), Catch::Contains("not readable"));
}
