#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "apps/cli/nested/qemu_emulator.hpp"

using namespace ktstr;
namespace fs = std::filesystem;

TEST_CASE("qemu version: backports' QEMU 10 and bookworm's 7.2 as they print it", "[qemu]") {
  const auto ten = cli::parse_qemu_version(
      "QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-2+deb13u1~bpo12+1)\n"
      "Copyright (c) 2003-2025 Fabrice Bellard and the QEMU Project developers\n");
  REQUIRE(ten);
  CHECK(ten->major == 10);
  CHECK(ten->minor == 0);
  CHECK(ten->micro == 2);
  CHECK(cli::to_string(*ten) == "10.0.2");

  const auto seven = cli::parse_qemu_version("QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\n");
  REQUIRE(seven);
  CHECK(cli::to_string(*seven) == "7.2.22");
  CHECK(seven->major < cli::kReliableQemuMajor);
}

TEST_CASE("qemu version: found after other lines - two parts are enough", "[qemu]") {
  const auto v = cli::parse_qemu_version("some warning\nQEMU emulator version 9.1\n");
  REQUIRE(v);
  CHECK(cli::to_string(*v) == "9.1.0");
}

TEST_CASE("qemu version: no version in the text is nullopt", "[qemu]") {
  CHECK_FALSE(cli::parse_qemu_version(""));
  CHECK_FALSE(cli::parse_qemu_version("qemu-system-x86_64: -version: invalid option\n"));
  CHECK_FALSE(cli::parse_qemu_version("QEMU emulator version x.y.z\n"));
  CHECK_FALSE(cli::parse_qemu_version("QEMU emulator version 10\n"));
  CHECK_FALSE(cli::parse_qemu_version("QEMU emulator version 10."));
}

TEST_CASE("qemu data dirs: an unpacked QEMU's own firmware directories, none for /usr/bin", "[qemu]") {
  CHECK(cli::qemu_data_dirs("/usr/bin/qemu-system-x86_64").empty());

  char tmpl[] = "/tmp/ktstr-qemu-test-XXXXXX";
  REQUIRE(::mkdtemp(tmpl));
  const fs::path root = tmpl;
  fs::create_directories(root / "usr/bin");
  fs::create_directories(root / "usr/share/qemu");
  const fs::path binary = root / "usr/bin/qemu-system-x86_64";
  std::ofstream(binary) << "";
  CHECK(cli::qemu_data_dirs(binary) == std::vector<fs::path>{root / "usr/share/qemu"});
  fs::create_directories(root / "usr/share/seabios");
  CHECK(cli::qemu_data_dirs(binary) == std::vector<fs::path>{root / "usr/share/qemu", root / "usr/share/seabios"});
  fs::remove_all(root);
}

namespace {
// Sets (or unsets, for nullptr) an environment variable for one scope.
struct ScopedEnv {
  std::string name;
  std::optional<std::string> saved;
  ScopedEnv(const char* n, const char* value) : name(n) {
    if (const char* old = std::getenv(n)) saved = old;
    value ? ::setenv(n, value, 1) : ::unsetenv(n);
  }
  ~ScopedEnv() { saved ? ::setenv(name.c_str(), saved->c_str(), 1) : ::unsetenv(name.c_str()); }
};

void write_executable(const fs::path& path) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << "#!/bin/sh\n";
  fs::permissions(path, fs::perms::owner_all);
}
}  // namespace

TEST_CASE("find qemu: $KTSTR_QEMU, then the cache's QEMU, then PATH", "[qemu]") {
  char tmpl[] = "/tmp/ktstr-qemu-find-XXXXXX";
  REQUIRE(::mkdtemp(tmpl));
  const fs::path root = tmpl;
  const fs::path cached = root / "cache/qemu/current/usr/bin/qemu-system-x86_64";
  const fs::path path_dir = root / "path";
  write_executable(path_dir / "qemu-system-x86_64");
  cli::Environment env;
  env.cache_dir = root / "cache";
  ScopedEnv path("PATH", path_dir.c_str());  // PATH is the one variable read where it is used
  {
    auto q = cli::find_qemu(env);
    REQUIRE(q);
    CHECK(q->binary == path_dir / "qemu-system-x86_64");
    CHECK(q->origin == "PATH");

    write_executable(cached);
    fs::create_directories(root / "cache/qemu/current/usr/share/qemu");
    q = cli::find_qemu(env);
    REQUIRE(q);
    CHECK(q->binary == cached);
    CHECK(q->origin == "the cache");
    CHECK(q->data_dirs == std::vector<fs::path>{root / "cache/qemu/current/usr/share/qemu"});
  }
  {
    env.qemu = path_dir / "qemu-system-x86_64";  // $KTSTR_QEMU
    auto q = cli::find_qemu(env);
    REQUIRE(q);
    CHECK(q->binary == path_dir / "qemu-system-x86_64");
    CHECK(q->origin == "$KTSTR_QEMU");
  }
  {
    // Tests simulate a machine without QEMU this way: no fallback to the cache or PATH.
    env.qemu = "/nonexistent/qemu";
    CHECK_FALSE(cli::find_qemu(env));
  }
  fs::remove_all(root);
}
