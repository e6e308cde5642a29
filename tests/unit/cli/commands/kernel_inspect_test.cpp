// `ktstr-actors kernel inspect`: the fixture kernel described as text and as JSON, and bad
// input refused with one line and the kernel-image exit code.
#include <catch2/catch.hpp>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "apps/cli/base/exit_codes.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/fake_bzimage.hpp"
#include "tests/support/fixture_paths.hpp"
#include "tests/support/files.hpp"

using namespace ktstr;
using namespace ktstr::cli;

namespace {

using test::fixture_bzimage;

/// A line of the report: name padded to 32 columns, then the value.
std::string row(const std::string& name, const std::string& value) {
  std::string line = "  " + name;
  line.resize(std::max<size_t>(line.size(), 34), ' ');
  return "\n" + line + " " + value + "\n";
}

test::CliResult inspect(std::vector<std::string> args) {
  args.insert(args.begin(), {"kernel", "inspect"});
  return test::run_cli(args, {"KTSTR_CACHE=" + test::scratch_dir("inspect-cache").string()}, 120);
}

}  // namespace

TEST_CASE("kernel inspect prints the fixture's layout, symbols and member offsets", "[kernel-inspect]") {
  const auto kernel = fixture_bzimage();
  if (!kernel) {
    WARN("test not run: no fixture kernel (shared/fixtures/kernels/linux-6.12.117-scx)");
    return;
  }
  const auto r = inspect({kernel->string(), "--symbol", "scx_exit_kind", "--symbol", "no_such_symbol", "--type",
                          "rq.scx.local_dsq.nr", "--type", "rq.no_such_member", "--type", "rq"});
  INFO(r.output);
  CHECK(r.exit_code == exit_pass);
  CHECK_THAT(r.output, Catch::Contains("release  6.12.117"));
  CHECK_THAT(r.output, Catch::Contains("payload  gzip"));
  CHECK_THAT(r.output, Catch::Contains("133553 from kallsyms"));
  CHECK_THAT(r.output, Catch::Contains(row("scx_exit_kind", "0xffffffff82a55ec8")));
  CHECK_THAT(r.output, Catch::Contains(row("scx_root", "absent: not in kallsyms")));
  CHECK_THAT(r.output, Catch::Contains(row("rq.curr", "offset 0xaf8 size 8")));
  CHECK_THAT(r.output, Catch::Contains(row("scx_exit_kind", "0xffffffff82a55ec8 d")));
  CHECK_THAT(r.output, Catch::Contains(row("no_such_symbol", "not found")));
  CHECK_THAT(r.output, Catch::Contains(row("rq.scx.local_dsq.nr", "offset 0x908 size 4")));
  CHECK_THAT(r.output, Catch::Contains(row("rq.no_such_member", "not found: rq.no_such_member: no member no_such_member in rq")));
  CHECK_THAT(r.output, Catch::Contains(row("rq", "size 0xe00")));
}

TEST_CASE("kernel inspect --json is one object with the same facts", "[kernel-inspect]") {
  const auto kernel = fixture_bzimage();
  if (!kernel) {
    WARN("test not run: no fixture kernel (shared/fixtures/kernels/linux-6.12.117-scx)");
    return;
  }
  const auto r = inspect({kernel->string(), "--json", "--symbol", "jiffies_64", "--symbol", "nope", "--type", "task_struct.comm"});
  REQUIRE(r.exit_code == exit_pass);
  // Logs go to stderr, which run_cli interleaves: the object is from the first "{" line on.
  const auto at = r.output.find("\n{");
  const auto j = nlohmann::json::parse(at == std::string::npos ? r.output : r.output.substr(at + 1));
  CHECK(j["release"] == "6.12.117");
  CHECK(j["codec"] == "gzip");
  CHECK(j["symbol_source"] == "kallsyms");
  CHECK(j["symbol_count"] == 133553);
  CHECK(j["sched_ext"] == true);
  CHECK(j["layout"]["symbols"]["scx_exit_kind"] == 0xffffffff82a55ec8ULL);
  CHECK(j["layout"]["fields"]["rq.scx.runnable_list"]["offset"] == 0x938);
  CHECK(j["layout"]["missing"].contains("scx_root"));
  CHECK(j["symbols"][0]["address"] == 0xffffffff82a079c0ULL);
  CHECK(j["symbols"][1]["found"] == false);
  CHECK(j["types"][0]["offset"] == 0x828);
  CHECK(j["types"][0]["size"] == 16);
}

TEST_CASE("kernel inspect takes a cached kernel's name as well as a path", "[kernel-inspect]") {
  const auto kernel = fixture_bzimage();
  if (!kernel) {
    WARN("test not run: no fixture kernel (shared/fixtures/kernels/linux-6.12.117-scx)");
    return;
  }
  const auto cache = test::scratch_dir("inspect-named");
  std::filesystem::create_directories(cache / "kernels" / "my-scx");
  std::filesystem::create_symlink(std::filesystem::canonical(*kernel), cache / "kernels" / "my-scx" / "bzImage");
  const auto r = test::run_cli({"kernel", "inspect", "my-scx", "--symbol", "jiffies_64"}, {"KTSTR_CACHE=" + cache.string()}, 120);
  INFO(r.output);
  CHECK(r.exit_code == exit_pass);
  CHECK_THAT(r.output, Catch::Contains("kernels/my-scx/bzImage"));
  CHECK_THAT(r.output, Catch::Contains(row("jiffies_64", "0xffffffff82a079c0 D")));
}

TEST_CASE("kernel inspect refuses a missing file and a non-bzImage with the kernel-image exit code", "[kernel-inspect]") {
  const auto missing = inspect({"/nonexistent/bzImage"});
  CHECK(missing.exit_code == exit_kernel_image);
  CHECK_THAT(missing.output, Catch::StartsWith("ktstr-actors: "));
  const auto unknown = inspect({"linux-9.99-nope"});
  CHECK(unknown.exit_code == exit_kernel_image);
  CHECK_THAT(unknown.output, Catch::Contains("no cached kernel of that name"));

  const auto path = test::scratch_dir("inspect") / "notakernel";
  test::write_file(path, std::vector<uint8_t>(8192, 0x90));
  const auto not_bz = inspect({path.string()});
  CHECK(not_bz.exit_code == exit_kernel_image);
  CHECK_THAT(not_bz.output, Catch::StartsWith("ktstr-actors: "));

  const auto no_payload = test::scratch_dir("inspect") / "nopayload";
  test::write_file(no_payload, test::fake_bzimage());
  const auto r = inspect({no_payload.string()});
  CHECK(r.exit_code == exit_kernel_image);
  CHECK_THAT(r.output, Catch::Contains("no compressed payload"));
}
