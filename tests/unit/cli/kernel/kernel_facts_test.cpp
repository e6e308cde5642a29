// The kernel-facts cache: described once per image, read back equal, a damaged entry a miss.
#include <catch2/catch.hpp>

#include <fstream>

#include "apps/cli/kernel/kernel_facts.hpp"
#include "kvm/guest_kernel/layout_json.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/fake_bzimage.hpp"
#include "tests/support/fixture_paths.hpp"

using namespace ktstr;

namespace {

using test::fixture_bzimage;

}  // namespace

TEST_CASE("kernel facts are cached by the image's SHA-256 and a damaged entry is a miss", "[kernel-facts]") {
  const auto kernel = fixture_bzimage();
  if (!kernel) {
    WARN("test not run: no fixture kernel (shared/fixtures/kernels/linux-6.12.117-scx)");
    return;
  }
  const auto cache = test::scratch_dir("kernel-facts");
  const auto first = cli::load_kernel_facts(cache, *kernel);
  REQUIRE(first.ok);
  CHECK_FALSE(first.from_cache);
  const auto entry = cli::kernel_facts_path(cache, *kernel);
  CHECK(entry.parent_path() == cache / "kernel-facts");
  CHECK(entry.stem().string().size() == 64);
  REQUIRE(std::filesystem::exists(entry));

  const auto second = cli::load_kernel_facts(cache, *kernel);
  REQUIRE(second.ok);
  CHECK(second.from_cache);
  CHECK(guest_kernel::to_json(second.layout) == guest_kernel::to_json(first.layout));
  CHECK(second.symbols.size() == first.symbols.size());
  CHECK(second.symbols.symbolize(0xffffffff81e00085ULL) == "entry_SYSCALL_64+0x5");
  CHECK(second.symbol_source == "kallsyms");

  std::filesystem::resize_file(entry, std::filesystem::file_size(entry) / 2);  // a torn write
  const auto third = cli::load_kernel_facts(cache, *kernel);
  REQUIRE(third.ok);
  CHECK_FALSE(third.from_cache);
  CHECK(guest_kernel::to_json(third.layout) == guest_kernel::to_json(first.layout));
  CHECK(cli::load_kernel_facts(cache, *kernel).from_cache);  // rewritten whole
}

TEST_CASE("kernel facts of a file that is no kernel say why, and nothing is cached", "[kernel-facts]") {
  const auto cache = test::scratch_dir("kernel-facts-bad");
  const auto missing = cli::load_kernel_facts(cache, "/nonexistent/bzImage");
  CHECK_FALSE(missing.ok);
  CHECK_FALSE(missing.why.empty());
  const auto path = cache / "nopayload";
  test::write_file(path, test::fake_bzimage());
  const auto facts = cli::load_kernel_facts(cache, path);
  CHECK_FALSE(facts.ok);
  CHECK_THAT(facts.why, Catch::StartsWith("no compressed payload"));
  CHECK_FALSE(std::filesystem::exists(cache / "kernel-facts"));
}
