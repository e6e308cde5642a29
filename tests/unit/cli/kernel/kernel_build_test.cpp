// `kernel build` and `kernel list` end to end, against a FAKE kernel source: a tiny tree
// whose Makefile targets (x86_64_defconfig, olddefconfig, bzImage, tools/sched_ext) write
// plausible files and print Kbuild lines, in a tarball like Debian's linux-source. The
// cache is a temp dir (KTSTR_CACHE). The real 36-minute build is never run here.
#include <catch2/catch.hpp>

#include "tests/support/files.hpp"
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "apps/cli/base/exit_codes.hpp"
#include "apps/cli/kernel/kernel_cache.hpp"
#include "tests/support/cli.hpp"

using namespace ktstr;
using namespace ktstr::cli;
namespace fs = std::filesystem;

using ktstr::test::slurp;

namespace {

void write(const fs::path& p, const std::string& text, bool exec = false) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
  if (exec) ::chmod(p.c_str(), 0755);
}

/// The fake tree. FAKE_KCONFIG_DROP=SYM makes olddefconfig drop CONFIG_SYM;
/// FAKE_NO_BTF=1 links a vmlinux without .BTF; FAKE_MAKE_FAIL=1 fails bzImage;
/// FAKE_MAKE_SLEEP=S holds bzImage S seconds. Like
/// scripts/link-vmlinux.sh, the .BTF section is alloc (objcopy -O binary skips others).
void make_fake_tree(const fs::path& tree) {
  write(tree / "Makefile",
        "VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 99\nEXTRAVERSION =\nNAME = Fake\n\n"
        "x86_64_defconfig:\n"
        "\tprintf 'CONFIG_X86_64=y\\nCONFIG_NR_CPUS=64\\nCONFIG_MODULES=y\\n' > .config\n"
        "olddefconfig:\n"
        "\tsh scripts/fake_olddefconfig.sh\n"
        "bzImage:\n"
        "\t@echo '  HOSTCC  scripts/basic/fixdep'\n"
        "\t@for i in $$(seq 1 30); do echo \"  CC      kernel/f$$i.o\"; done\n"
        "\t@echo '  AS      arch/x86/entry/entry_64.o'\n"
        "\t@if [ -n \"$$FAKE_MAKE_FAIL\" ]; then echo 'kernel/f7.c:1:1: error: fake failure'; exit 2; fi\n"
        "\t@if [ -n \"$$FAKE_MAKE_SLEEP\" ]; then sleep $$FAKE_MAKE_SLEEP; fi\n"
        "\tmkdir -p arch/x86/boot include/config\n"
        "\tprintf 'fake-bzimage' > arch/x86/boot/bzImage\n"
        "\tcc -c -x c /dev/null -o empty.o\n"
        "\tprintf 'FAKEBTFDATA' > btf.bin\n"
        "\tif [ -n \"$$FAKE_NO_BTF\" ]; then cp empty.o vmlinux; else objcopy --add-section .BTF=btf.bin --set-section-flags .BTF=alloc,readonly empty.o vmlinux; fi\n"
        "\techo 6.12.99-fake > include/config/kernel.release\n"
        "\t@echo '  LD      vmlinux'\n");
  write(tree / "scripts/kconfig/merge_config.sh",
        "#!/bin/sh\n"
        "[ \"$1\" = -m ] && shift\n"
        "base=$1; shift\n"
        "for f in \"$@\"; do\n"
        "  for s in $(sed -n 's/^\\(# \\)\\{0,1\\}\\(CONFIG_[A-Za-z0-9_]*\\)[= ].*/\\2/p' \"$f\"); do\n"
        "    sed -i \"/^$s=/d; /^# $s is not set/d\" \"$base\"\n"
        "  done\n"
        "  cat \"$f\" >> \"$base\"\n"
        "done\n",
        true);
  write(tree / "scripts/fake_olddefconfig.sh",
        "sed -i 's/^CONFIG_\\([A-Za-z0-9_]*\\)=n$/# CONFIG_\\1 is not set/' .config\n"
        "if [ -n \"$FAKE_KCONFIG_DROP\" ]; then sed -i \"/^CONFIG_$FAKE_KCONFIG_DROP=/d\" .config; fi\n"
        "true\n");
  // Kbuild makefiles for the progress estimate: 30 objects.
  write(tree / "Kbuild", "obj-y += kernel/\n");
  std::string objs;
  for (int i = 1; i <= 30; ++i) objs += " f" + std::to_string(i) + ".o";
  write(tree / "kernel/Makefile", "obj-y +=" + objs + "\n");
  write(tree / "kernel/configs/kvm_guest.config", "CONFIG_KVM_GUEST=y\nCONFIG_PARAVIRT=y\n");
  write(tree / "kernel/sched/core.c", "int x;\n");
  write(tree / "tools/sched_ext/Makefile",
        "all:\n"
        "\tmkdir -p build/bin\n"
        "\tfor s in scx_simple scx_central; do printf '#!/bin/sh\\n' > build/bin/$$s; chmod +x build/bin/$$s; done\n");
  write(tree / "tools/sched_ext/scx_simple.bpf.c", "// not a binary\n");
}

struct Fixture {
  fs::path root = test::scratch_dir("kbuild");
  fs::path cache = root / "cache";
  fs::path tarball = root / "linux-source-6.12.tar.xz";
  fs::path bin = root / "bin";
  std::string path_env;

  Fixture() {
    make_fake_tree(root / "src" / "linux-source-6.12");
    REQUIRE(std::system(("tar -C " + (root / "src").string() + " -cJf " + tarball.string() + " linux-source-6.12").c_str()) == 0);
    // Build tools the fake tree never calls but the pipeline checks for.
    for (const char* t : {"flex", "bison", "pahole", "bc", "clang-19", "llvm-strip-19"})
      write(bin / t, "#!/bin/sh\nexit 0\n", true);
    const char* path = std::getenv("PATH");
    path_env = "PATH=" + bin.string() + ":" + (path ? path : "/usr/bin:/bin");
  }
  ~Fixture() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  test::CliResult cli(std::vector<std::string> args, std::vector<std::string> env = {}) {
    env.push_back("KTSTR_CACHE=" + cache.string());
    env.push_back(path_env);
    return test::run_cli(args, env, 120);
  }
  test::CliResult cli(std::vector<std::string> args, std::vector<std::string> env, int timeout_s) {
    env.push_back("KTSTR_CACHE=" + cache.string());
    env.push_back(path_env);
    return test::run_cli(args, env, timeout_s);
  }
  test::CliResult build(std::vector<std::string> extra = {}, std::vector<std::string> env = {}) {
    std::vector<std::string> args{"kernel", "build", "--source", tarball.string(), "--jobs", "1"};
    args.insert(args.end(), extra.begin(), extra.end());
    return cli(args, env);
  }
  bool leftovers() {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(cache / "kernels", ec))
      if (e.path().filename().string()[0] == '.') return true;
    return !fs::is_empty(cache / "build", ec) && !ec;
  }
};

}  // namespace

TEST_CASE("kernel build: a missing source names the set-up command and has its exit code") {
  Fixture f;
  auto r = f.cli({"kernel", "build", "--source", (f.root / "nope.tar.xz").string()});
  CHECK(r.exit_code == exit_kernel_source);
  CHECK_THAT(r.output, Catch::Contains("scripts/setup.sh --kernel-build"));
  CHECK_FALSE(fs::exists(f.cache / "kernels"));
}

TEST_CASE("kernel build: the fake source becomes a complete cache entry, reused, rebuilt with --force") {
  Fixture f;
  auto r = f.build({"--schedulers"});
  INFO(r.output);
  REQUIRE(r.exit_code == exit_pass);
  fs::path entry = f.cache / "kernels" / "linux-6.12.99-scx";  // name from the tarball's Makefile
  CHECK(slurp(entry / "bzImage") == "fake-bzimage");
  CHECK_THAT(slurp(entry / "config"), Catch::Contains("CONFIG_SCHED_CLASS_EXT=y"));
  CHECK_THAT(slurp(entry / "config"), Catch::Contains("# CONFIG_MODULES is not set"));
  CHECK(slurp(entry / "vmlinux.btf") == "FAKEBTFDATA");
  CHECK(fs::exists(entry / "fragment.config"));
  CHECK(fs::exists(entry / "sched" / "scx_simple"));
  CHECK(fs::exists(entry / "sched" / "scx_central"));
  auto j = test::read_json(entry / "build.json");
  REQUIRE(j.is_object());
  CHECK(j["release"] == "6.12.99-fake");
  CHECK(j["version"] == "6.12.99");
  CHECK(j["source"] == f.tarball.string());
  CHECK(j["compiled_objects"] == 31);  // 30 CC + 1 AS
  CHECK(j["btf"] == true);
  CHECK(j["sched_ext"] == true);
  CHECK(j["build_seconds"].is_number());
  CHECK(j["fragment_fnv1a64"].get<std::string>().size() == 16);
  CHECK(j["schedulers"] == nlohmann::json({"scx_central", "scx_simple"}));
  CHECK(fs::exists(j["make_log"].get<std::string>()));
  CHECK_THAT(r.output, Catch::Contains("make log: " + j["make_log"].get<std::string>()));
  CHECK_THAT(r.output, Catch::Contains("31/~33 objects"));  // the progress line, estimate from Kbuild
  CHECK_THAT(r.output, Catch::Contains("run --kernel linux-6.12.99-scx"));
  CHECK_FALSE(f.leftovers());
  // `run --kernel NAME` resolves it.
  auto resolved = cached_kernel(f.cache, "linux-6.12.99-scx");
  REQUIRE(resolved);
  CHECK(*resolved == entry / "bzImage");

  auto again = f.build({"--schedulers"});
  CHECK(again.exit_code == exit_pass);
  CHECK_THAT(again.output, Catch::Contains("already cached"));
  // By name, the cached entry needs no source.
  auto by_name = f.cli({"kernel", "build", "--source", (f.root / "gone.tar.xz").string(), "--name", "linux-6.12.99-scx"});
  CHECK(by_name.exit_code == exit_pass);
  CHECK_THAT(by_name.output, Catch::Contains("already cached"));
  CHECK(test::read_json(entry / "build.json")["date"] == j["date"]);

  auto forced = f.build({"--force"});
  INFO(forced.output);
  CHECK(forced.exit_code == exit_pass);
  CHECK_THAT(forced.output, Catch::Contains("built linux-6.12.99-scx"));
  CHECK_FALSE(fs::exists(entry / "sched"));  // rebuilt without --schedulers
  CHECK(fs::exists(entry / "bzImage"));
  CHECK_FALSE(f.leftovers());
}

TEST_CASE("kernel build: a fragment symbol dropped by olddefconfig fails with its exit code") {
  Fixture f;
  auto r = f.build({"--name", "dropped"}, {"FAKE_KCONFIG_DROP=SCHED_CLASS_EXT"});
  CHECK(r.exit_code == exit_kernel_config);
  CHECK_THAT(r.output, Catch::Contains("CONFIG_SCHED_CLASS_EXT=y (got: not set)"));
  CHECK_FALSE(fs::exists(f.cache / "kernels" / "dropped"));
  CHECK_FALSE(cached_kernel(f.cache, "dropped"));
}

TEST_CASE("kernel build: a failing make prints the log tail and caches nothing") {
  Fixture f;
  auto r = f.build({"--name", "broken"}, {"FAKE_MAKE_FAIL=1"});
  CHECK(r.exit_code == exit_kernel_build);
  CHECK_THAT(r.output, Catch::Contains("error: fake failure"));
  CHECK_THAT(r.output, Catch::Contains("last lines of"));
  CHECK_FALSE(fs::exists(f.cache / "kernels" / "broken"));
  // The next build of that name clears the kept tree and succeeds.
  auto ok = f.build({"--name", "broken"});
  CHECK(ok.exit_code == exit_pass);
  CHECK_FALSE(f.leftovers());
}

TEST_CASE("kernel build: an unpacked tree as source, vmlinux without BTF is reported") {
  Fixture f;
  auto r = f.cli({"kernel", "build", "--source", (f.root / "src" / "linux-source-6.12").string(), "--name", "nobtf"},
                 {"FAKE_NO_BTF=1"});
  INFO(r.output);
  CHECK(r.exit_code == exit_pass);
  CHECK_THAT(r.output, Catch::Contains("no BTF"));
  CHECK(fs::exists(f.cache / "kernels" / "nobtf" / "bzImage"));
  CHECK_FALSE(fs::exists(f.cache / "kernels" / "nobtf" / "vmlinux.btf"));
  CHECK(test::read_json(f.cache / "kernels" / "nobtf" / "build.json")["btf"] == false);
  CHECK_FALSE(fs::exists(f.root / "src" / "linux-source-6.12" / ".config"));  // the source is untouched
}

TEST_CASE("kernel build: missing build tools name the set-up command") {
  Fixture f;
  fs::remove(f.bin / "clang-19");
  auto r = f.build({"--schedulers"}, {"PATH=" + f.bin.string() + ":/nonexistent"});
  CHECK(r.exit_code == exit_kernel_source);
  CHECK_THAT(r.output, Catch::Contains("missing kernel build tools:"));
  CHECK_THAT(r.output, Catch::Contains("clang-19"));
  CHECK_THAT(r.output, Catch::Contains("scripts/setup.sh --kernel-build"));
}

TEST_CASE("kernel list: built and Debian kernels, aliases, sched_ext, build time") {
  Fixture f;
  REQUIRE(f.build({"--name", "scx"}).exit_code == exit_pass);
  fs::path deb = f.cache / "kernels" / "linux-image-6.1.0-99-amd64";
  write(deb / "boot" / "vmlinuz-6.1.0-99-amd64", "kernel");
  write(deb / "boot" / "config-6.1.0-99-amd64", "CONFIG_BPF=y\n# CONFIG_SCHED_CLASS_EXT is not set\n");
  fs::create_directory_symlink("linux-image-6.1.0-99-amd64", f.cache / "kernels" / "default");

  auto r = f.cli({"kernel", "list", "--json"});
  REQUIRE(r.exit_code == exit_pass);
  auto j = nlohmann::json::parse(r.output);
  auto& ks = j["kernels"];
  REQUIRE(ks.size() == 3);
  CHECK(ks[0]["name"] == "default");
  CHECK(ks[0]["alias_of"] == "linux-image-6.1.0-99-amd64");
  CHECK(ks[1]["name"] == "linux-image-6.1.0-99-amd64");
  CHECK(ks[1]["release"] == "6.1.0-99-amd64");
  CHECK(ks[1]["sched_ext"] == false);
  CHECK(ks[1]["origin"] == "debian");
  CHECK(ks[1]["build_seconds"].is_null());
  CHECK(ks[2]["name"] == "scx");
  CHECK(ks[2]["release"] == "6.12.99-fake");
  CHECK(ks[2]["sched_ext"] == true);
  CHECK(ks[2]["origin"] == "built");
  CHECK(ks[2]["build_seconds"].is_number());

  auto t = f.cli({"kernel", "list"});
  CHECK(t.exit_code == exit_pass);
  CHECK_THAT(t.output, Catch::Contains("sched_ext"));
  CHECK_THAT(t.output, Catch::Contains("-> linux-image-6.1.0-99-amd64"));
  CHECK_THAT(t.output, Catch::Contains("6.12.99-fake"));
}

TEST_CASE("kernel build: an interrupted build never looks cached, and the next one cleans up") {
  Fixture f;
  // Killed (SIGKILL, no chance to clean up) while make runs.
  auto r = f.cli({"kernel", "build", "--source", f.tarball.string(), "--name", "cut"}, {"FAKE_MAKE_SLEEP=6"}, 3);
  CHECK(r.exit_code == -1);
  CHECK_FALSE(fs::exists(f.cache / "kernels" / "cut"));
  CHECK(f.leftovers());  // the staging entry and the tree, invisible to --kernel and kernel list
  CHECK_FALSE(cached_kernel(f.cache, "cut"));
  auto list = f.cli({"kernel", "list", "--json"});
  CHECK(nlohmann::json::parse(list.output)["kernels"].empty());
  auto again = f.build({"--name", "cut"});
  CHECK(again.exit_code == exit_pass);
  CHECK_THAT(again.output, Catch::Contains("failed or interrupted build"));
  CHECK_FALSE(f.leftovers());
}
