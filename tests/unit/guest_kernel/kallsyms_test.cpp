#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <random>
#include <set>
#include <tuple>

#include "kvm/guest_kernel/image_error.hpp"
#include "kvm/guest_kernel/kallsyms.hpp"
#include "tests/unit/guest_kernel/kernel_images.hpp"

using namespace ktstr;
using guest_kernel::Symbol;
using guest_kernel::SymbolTable;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

/// Per-CPU symbols lie in [__per_cpu_start, __per_cpu_end) of the zero-based section.
bool is_percpu(const SymbolTable& map, uint64_t address) {
  const auto start = map.address_of("__per_cpu_start"), end = map.address_of("__per_cpu_end");
  return start && end && address >= *start && address <= *end;
}

}  // namespace

TEST_CASE("kallsyms: the fixture's decoded table equals its System.map", "[guest_kernel][kallsyms]") {
  const auto kernel = test::scx_fixture_kernel();
  if (!kernel) {
    WARN("test not run: no fixture kernel under " << test::fixtures_dir());
    return;
  }
  const auto& elf = test::payload_elf(kernel->bzimage);
  const auto start = std::chrono::steady_clock::now();
  const SymbolTable decoded = guest_kernel::decode_kallsyms(elf.bytes());
  const double decode_s = seconds_since(start);
  const SymbolTable map = guest_kernel::load_system_map(kernel->system_map);

  // Every decoded symbol is in System.map with the same address; the type letter too,
  // except that kallsyms stores per-CPU symbols as absolute ('A', KALLSYMS_ABSOLUTE_PERCPU).
  std::multiset<std::tuple<std::string, uint64_t>> in_map;
  std::map<std::tuple<std::string, uint64_t>, char> type_in_map;
  for (const auto& s : map.symbols()) {
    in_map.emplace(s.name, s.address);
    type_in_map[{s.name, s.address}] = s.type;
  }
  size_t same = 0, percpu_retyped = 0;
  std::vector<Symbol> absent, mistyped;
  for (const auto& s : decoded.symbols()) {
    auto it = in_map.find({s.name, s.address});
    if (it == in_map.end()) {
      absent.push_back(s);
      continue;
    }
    in_map.erase(it);
    const char t = type_in_map[{s.name, s.address}];
    if (t == s.type)
      ++same;
    else if (s.type == 'A' && is_percpu(map, s.address))
      ++percpu_retyped;
    else
      mistyped.push_back(s);
  }
  INFO("decoded " << decoded.size() << " symbols in " << decode_s << " s; System.map has " << map.size());
  CHECK(absent.empty());
  CHECK(mistyped.empty());
  if (!absent.empty()) FAIL_CHECK("first decoded symbol absent from System.map: " << absent[0].name);
  CHECK(same + percpu_retyped == decoded.size());
  CHECK(decoded.size() > 100'000);
  // System.map lists a few the kernel leaves out of kallsyms (scripts/kallsyms.c ignores
  // __kallsyms_* and similar); a handful at most.
  CHECK(in_map.size() == map.size() - decoded.size());
  CHECK(in_map.size() < 16);
  WARN("fixture kallsyms: " << decoded.size() << " decoded in " << decode_s << " s, " << same << " identical to System.map, "
                            << percpu_retyped << " per-CPU typed 'A' (D/B there); " << in_map.size()
                            << " System.map-only symbols");
  for (const char* name : {"_text", "entry_SYSCALL_64", "linux_banner", "page_offset_base", "__pgtable_l5_enabled",
                           "__per_cpu_offset", "__cpu_online_mask", "nr_cpu_ids", "jiffies_64", "init_top_pgt",
                           "scx_watchdog_timeout", "scx_exit_kind", "scx_ops_enable_state_var", "scx_ops", "runqueues",
                           "__per_cpu_start"}) {
    INFO(name);
    REQUIRE(decoded.find(name));
    CHECK(decoded.address_of(name) == map.address_of(name));
  }
}

TEST_CASE("kallsyms: Debian 6.1's xz kernel yields its key symbols", "[guest_kernel][kallsyms]") {
  const auto kernel = test::debian_kernel();
  if (!kernel) {
    WARN("test not run: no Debian kernel in the cache (scripts/fetch-kernel.sh)");
    return;
  }
  const auto& elf = test::payload_elf(kernel->bzimage);
  const auto decoded = guest_kernel::decode_kallsyms(elf.bytes());
  CHECK(decoded.size() > 50'000);
  for (const char* name : {"_text", "entry_SYSCALL_64", "linux_banner", "page_offset_base", "__per_cpu_offset",
                           "__cpu_online_mask", "nr_cpu_ids", "jiffies_64", "init_top_pgt"}) {
    INFO(name);
    CHECK(decoded.find(name));
  }
  CHECK(decoded.address_of("_text") == 0xffffffff81000000ULL);
  CHECK(decoded.address_of("runqueues") == 0x31c40);  // per-CPU, zero-based (fact sheet §3.3)
  CHECK(decoded.address_of("__per_cpu_start") == 0);
  CHECK_FALSE(decoded.find("scx_exit_kind"));
  // The banner at linux_banner reads "Linux version 6.1..."
  const auto banner = elf.read(*decoded.address_of("linux_banner"), 32);
  REQUIRE(banner);
  CHECK(std::string(banner->begin(), banner->end()).starts_with("Linux version 6.1"));
}

TEST_CASE("kallsyms: damaged tables give an error or a table, never a crash or a hang", "[guest_kernel][kallsyms][mutation]") {
  const auto kernel = test::scx_fixture_kernel();
  if (!kernel) {
    WARN("test not run: no fixture kernel under " << test::fixtures_dir());
    return;
  }
  const auto& elf = test::payload_elf(kernel->bzimage);
  const auto tables = guest_kernel::locate_kallsyms(elf.bytes());
  REQUIRE(tables);
  // A window holding every table, so each round searches megabytes, not the whole image.
  const size_t lo = std::min(tables->names, tables->offsets) - 4096;
  const size_t hi = std::max(tables->relative_base, tables->token_index + 512) + 4096;
  const std::vector<uint8_t> window(elf.bytes().begin() + lo, elf.bytes().begin() + hi);
  const auto intact = guest_kernel::decode_kallsyms(window);
  REQUIRE(intact.size() == tables->count);

  std::mt19937 rng(20261203);
  size_t errors = 0, tables_out = 0, changed = 0;
  const struct {
    size_t begin, end;
  } regions[] = {{tables->names - lo, tables->markers - lo},
                 {tables->markers - lo, tables->token_table - lo},
                 {tables->token_table - lo, tables->token_index + 512 - lo},
                 {tables->offsets - lo, tables->relative_base + 8 - lo}};
  for (int round = 0; round < 240; ++round) {
    auto damaged = window;
    const auto& region = regions[round % 4];
    const int hits = 1 + static_cast<int>(rng() % 8);
    for (int h = 0; h < hits; ++h) {
      const size_t at = region.begin + rng() % (region.end - region.begin);
      damaged[at] = (round & 4) ? 0 : static_cast<uint8_t>(damaged[at] ^ (1u << (rng() % 8)));
    }
    try {
      const auto t = guest_kernel::decode_kallsyms(damaged);
      ++tables_out;
      if (t.symbols() != intact.symbols()) ++changed;
    } catch (const guest_kernel::ImageError&) {
      ++errors;
    }
  }
  WARN("kallsyms mutation: " << errors << " errors, " << tables_out << " tables (" << changed << " differing) of 240 rounds");
  CHECK(errors + tables_out == 240);
  CHECK(errors > 0);
}
