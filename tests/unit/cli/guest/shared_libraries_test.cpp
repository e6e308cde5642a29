#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "apps/cli/guest/shared_libraries.hpp"

using namespace ktstr::cli;
namespace fs = std::filesystem;

namespace {

bool has_guest_path(const std::vector<GuestFile>& files, const std::string& path) {
  for (const auto& f : files)
    if (f.guest_path == path) return true;
  return false;
}

}  // namespace

TEST_CASE("a dynamic program needs its interpreter and its libraries at the loader's paths") {
  const auto files = program_dependencies("/bin/ls");
  REQUIRE(!files.empty());
  CHECK(files.front().guest_path == "/lib64/ld-linux-x86-64.so.2");
  CHECK(has_guest_path(files, "/lib/x86_64-linux-gnu/libc.so.6"));
  CHECK(has_guest_path(files, "/lib/x86_64-linux-gnu/libselinux.so.1"));
  // libselinux needs libpcre2: the closure is transitive.
  CHECK(has_guest_path(files, "/lib/x86_64-linux-gnu/libpcre2-8.so.0"));
  for (const auto& f : files) {
    CHECK(fs::is_regular_file(f.host_path));
    CHECK(!fs::is_symlink(f.host_path));
  }
  // Each once.
  for (std::size_t i = 0; i < files.size(); ++i)
    for (std::size_t j = i + 1; j < files.size(); ++j) CHECK(files[i].guest_path != files[j].guest_path);
}

TEST_CASE("a missing library names itself and the object that needs it") {
  try {
    program_dependencies("/bin/ls", {"/nonexistent-libdir"});
    FAIL("no error");
  } catch (const ProgramDependencyError& e) {
    CHECK_THAT(e.what(), Catch::Contains("shared library libselinux.so.1 (needed by ls) not found"));
  }
}

TEST_CASE("a file that is not an ELF program is refused") {
  const fs::path script = fs::temp_directory_path() / "ktstr-not-elf.sh";
  std::ofstream(script) << "#!/bin/sh\necho hi\n";
  CHECK_THROWS_WITH(program_dependencies(script), Catch::Contains("not an ELF file"));
  CHECK_THROWS_WITH(program_dependencies("/nonexistent/program"), Catch::Contains("cannot open"));
  fs::remove(script);
}
