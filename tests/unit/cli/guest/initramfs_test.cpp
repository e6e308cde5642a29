// Archives are checked with the real cpio(1), the same reader family as the kernel's.
#include "apps/cli/guest/guest_image.hpp"
#include "apps/cli/guest/initramfs.hpp"

#include <catch2/catch.hpp>

#include "tests/support/files.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using ktstr::cli::Initramfs;
using ktstr::cli::GuestImageContents;
using ktstr::cli::build_guest_initramfs;

using ktstr::test::slurp;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "initramfs-test-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~TempDir() { std::error_code ec; fs::remove_all(path, ec); }
};

std::string run(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  REQUIRE(p != nullptr);
  std::array<char, 4096> buf;
  while (std::size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  REQUIRE(pclose(p) == 0);
  return out;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The `cpio -tv` line of one entry (the name is the last field, or before " -> ").
std::string listing_of(const std::vector<std::string>& listing, const std::string& name) {
  for (const auto& l : listing)
    if (l.size() >= name.size() &&
        (l.compare(l.size() - name.size(), name.size(), name) == 0 ||
         l.find(" " + name + " -> ") != std::string::npos))
      return l;
  return {};
}

}  // namespace

TEST_CASE("initramfs lists its entries in order with parents before children", "[initramfs]") {
  TempDir tmp;
  fs::path host_file = tmp.path / "payload.bin";
  std::ofstream(host_file, std::ios::binary) << std::string("elf\0bytes", 9);

  Initramfs img;
  img.add_file("/sbin/init", host_file, 0755);
  img.add_directory("/proc", 0555);
  img.add_bytes("etc/motd", std::string_view("hello initramfs\n"), 0640);
  img.add_symlink("/bin/sh", "/sbin/init");
  img.add_char_device("/dev/console", 5, 1, 0600);
  img.add_directory("sbin", 0700);  // explicit mode for an implicit directory
  fs::path out = tmp.path / "initrd.cpio";
  img.write(out);

  std::vector<std::string> names = lines(run("cpio -t --quiet -F " + out.string()));
  CHECK(names == std::vector<std::string>{"sbin", "sbin/init", "proc", "etc", "etc/motd", "bin",
                                          "bin/sh", "dev", "dev/console"});

  std::vector<std::string> listing = lines(run("cpio -tv --quiet -F " + out.string()));
  CHECK(listing_of(listing, "sbin").rfind("drwx------ ", 0) == 0);
  CHECK(listing_of(listing, "sbin/init").rfind("-rwxr-xr-x ", 0) == 0);
  CHECK(listing_of(listing, "proc").rfind("dr-xr-xr-x ", 0) == 0);
  CHECK(listing_of(listing, "etc").rfind("drwxr-xr-x ", 0) == 0);
  CHECK(listing_of(listing, "etc/motd").rfind("-rw-r----- ", 0) == 0);
  CHECK(listing_of(listing, "bin/sh").rfind("lrwxrwxrwx ", 0) == 0);
  CHECK(listing_of(listing, "bin/sh").find("bin/sh -> /sbin/init") != std::string::npos);
  const std::string console = listing_of(listing, "dev/console");
  CHECK(console.rfind("crw------- ", 0) == 0);
  CHECK(console.find(" 5,   1 ") != std::string::npos);

  // Extract the regular files and the link (not the device node) and compare bytes.
  fs::path dir = tmp.path / "x";
  fs::create_directory(dir);
  run("cpio -id --quiet -F " + out.string() + " -D " + dir.string() + " 'sbin/*' 'etc/*' 'bin/*'");
  CHECK(slurp(dir / "sbin/init") == std::string("elf\0bytes", 9));
  CHECK(slurp(dir / "etc/motd") == "hello initramfs\n");
  CHECK(fs::read_symlink(dir / "bin/sh") == "/sbin/init");
  struct stat st {};
  REQUIRE(::stat((dir / "sbin/init").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0755);
}

TEST_CASE("initramfs accepts byte spans and empty files", "[initramfs]") {
  TempDir tmp;
  const std::vector<std::uint8_t> bytes{0, 1, 2, 255};
  Initramfs img;
  img.add_bytes("a/b/c.bin", std::span<const std::uint8_t>(bytes));
  img.add_bytes("a/empty", std::string_view());
  img.write(tmp.path / "i.cpio");
  fs::path dir = tmp.path / "x";
  fs::create_directory(dir);
  run("cpio -id --quiet -F " + (tmp.path / "i.cpio").string() + " -D " + dir.string());
  CHECK(slurp(dir / "a/b/c.bin") == std::string("\0\1\2\xff", 4));
  CHECK(fs::file_size(dir / "a/empty") == 0);
}

TEST_CASE("initramfs rejects missing files, duplicates and bad paths with clear errors",
          "[initramfs]") {
  Initramfs img;
  CHECK_THROWS_WITH(img.add_file("init", "/nonexistent/ktstr-init"),
                    Catch::Contains("/nonexistent/ktstr-init") &&
                        Catch::Contains("No such file or directory"));
  CHECK_THROWS_WITH(img.add_file("init", "/"), Catch::Contains("not a regular file"));
  img.add_bytes("init", std::string_view("x"));
  CHECK_THROWS_WITH(img.add_bytes("/init", std::string_view("y")), Catch::Contains("duplicate entry 'init'"));
  CHECK_THROWS_WITH(img.add_bytes("init/child", std::string_view("y")), Catch::Contains("not a directory"));
  CHECK_THROWS_WITH(img.add_bytes("../etc/passwd", std::string_view("y")), Catch::Contains("'..'"));
  CHECK_THROWS_WITH(img.add_directory("/"), Catch::Contains("empty archive path"));
  CHECK_THROWS_WITH(img.write("/nonexistent-dir/out.cpio"), Catch::Contains("/nonexistent-dir/out.cpio"));
}

TEST_CASE("a scenario guest image carries the plan, the scheduler and its shared libraries", "[initramfs]") {
  TempDir dir;
  const fs::path out = dir.path / "guest.cpio";
  GuestImageContents contents;
  contents.agent = ktstr::cli::agent_binary(std::nullopt);
  contents.plan_json = R"({"version":1})";
  contents.scheduler = "/bin/ls";  // any dynamically linked program stands in for a scheduler
  build_guest_initramfs(out, contents);
  const auto names = lines(run("cpio -t --quiet -F " + out.string()));
  auto has = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) != names.end(); };
  CHECK(has("init"));
  CHECK(has("ktstr/plan.json"));
  CHECK(has("ktstr/sched/ls"));
  CHECK(has("lib64/ld-linux-x86-64.so.2"));
  CHECK(has("lib/x86_64-linux-gnu/libc.so.6"));
  CHECK(has("lib/x86_64-linux-gnu/libselinux.so.1"));
  CHECK(run("cd " + dir.path.string() + " && cpio -i --quiet --to-stdout ktstr/plan.json < guest.cpio") ==
        R"({"version":1})");
}

TEST_CASE("a guest image without a scenario has no plan and no scheduler", "[initramfs]") {
  TempDir dir;
  const fs::path out = dir.path / "guest.cpio";
  build_guest_initramfs(out, {.agent = ktstr::cli::agent_binary(std::nullopt)});
  const auto names = lines(run("cpio -t --quiet -F " + out.string()));
  CHECK(std::find(names.begin(), names.end(), "init") != names.end());
  for (const auto& n : names) CHECK(n.rfind("ktstr", 0) != 0);
}
