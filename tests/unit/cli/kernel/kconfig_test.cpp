// Kconfig parsing, the fragment check after `make olddefconfig`, and Kbuild progress
// parsing: the pure parts of `kernel build`.
#include <catch2/catch.hpp>

#include "tests/support/files.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "apps/cli/kernel/kbuild_estimate.hpp"
#include "apps/cli/kernel/kconfig.hpp"
#include "apps/cli/kernel/kernel_build.hpp"
#include "apps/cli/kernel/make_progress.hpp"

using namespace ktstr::cli;
namespace fs = std::filesystem;

using ktstr::test::slurp;

namespace {
const fs::path repo = KTSTR_SOURCE_DIR;
}  // namespace

TEST_CASE("kconfig lines: =y, values, =n and 'is not set'") {
  auto c = parse_kconfig(
      "#\n# Automatically generated file; DO NOT EDIT.\n#\nCONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=n\n"
      "CONFIG_NR_CPUS=128\nCONFIG_S=\"x y\"\n# CONFIG_D something else\nCONFIG_M=m\r\nnot a line\n");
  CHECK(c.at("A") == "y");
  CHECK(c.at("B") == "n");
  CHECK(c.at("C") == "n");
  CHECK(c.at("NR_CPUS") == "128");
  CHECK(c.at("S") == "\"x y\"");
  CHECK(c.at("M") == "m");
  CHECK(c.count("D") == 0);
  CHECK(c.size() == 6);
  CHECK(kconfig_value(c, "ABSENT") == "n");
}

TEST_CASE("a fragment symbol dropped by olddefconfig is reported and required") {
  auto fragment = parse_kconfig("CONFIG_BPF=y\nCONFIG_SCHED_CLASS_EXT=y\nCONFIG_NR_CPUS=128\nCONFIG_DRM=n\n"
                                "# CONFIG_HID is not set\n");
  auto config = parse_kconfig("CONFIG_BPF=y\n# CONFIG_SCHED_CLASS_EXT is not set\nCONFIG_NR_CPUS=64\nCONFIG_DRM=y\n");
  auto m = verify_fragment(fragment, config);
  REQUIRE(m.size() == 3);  // HID absent = not set: fine
  // Sorted by symbol: DRM, NR_CPUS, SCHED_CLASS_EXT.
  CHECK(m[0].symbol == "DRM");
  CHECK_FALSE(m[0].required);
  CHECK(m[1].symbol == "NR_CPUS");
  CHECK(m[1].required);
  CHECK(describe(m[1]) == "CONFIG_NR_CPUS=128 (got: 64)");
  CHECK(m[2].symbol == "SCHED_CLASS_EXT");
  CHECK(m[2].required);
  CHECK(describe(m[2]) == "CONFIG_SCHED_CLASS_EXT=y (got: not set)");
  CHECK(describe(m[0]) == "CONFIG_DRM is not set (got: y)");
  CHECK_FALSE(has_sched_ext(config));
  CHECK(has_sched_ext(fragment));
}

TEST_CASE("the built-in fragment is kernel-config/sched_ext.config and has the sched_ext essentials") {
  CHECK(std::string(builtin_kernel_fragment()) == slurp(repo / "kernel-config/sched_ext.config"));
  auto f = parse_kconfig(builtin_kernel_fragment());
  for (const char* s : {"BPF", "BPF_SYSCALL", "BPF_JIT", "SCHED_CLASS_EXT", "DEBUG_INFO",
                        "DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT", "DEBUG_INFO_BTF", "KALLSYMS_ALL", "IKCONFIG",
                        "IKCONFIG_PROC", "SCHEDSTATS", "SCHED_MC", "SCHED_SMT", "NUMA", "CGROUPS", "CPUSETS",
                        "CGROUP_SCHED", "BLK_DEV_INITRD", "SERIAL_8250_CONSOLE", "PARAVIRT", "KVM_GUEST"}) {
    INFO(s);
    CHECK(kconfig_value(f, s) == "y");
  }
  CHECK(kconfig_value(f, "MODULES") == "n");
  CHECK(kconfig_value(f, "NR_CPUS") == "128");
}

TEST_CASE("the fixture kernel's config satisfies its fragment (real olddefconfig output)") {
  fs::path dir = repo.parent_path() / "shared/fixtures/kernels/linux-6.12.117-scx";
  if (!fs::exists(dir / "config")) {
    WARN("no fixture kernel at " << dir.string());
    return;
  }
  auto config = parse_kconfig(slurp(dir / "config"));
  CHECK(verify_fragment(parse_kconfig(slurp(dir / "kconfig-fragment")), config).empty());
  CHECK(has_sched_ext(config));
  // Ours differs from the fixture's only in NR_CPUS (64 there).
  auto m = verify_fragment(parse_kconfig(builtin_kernel_fragment()), config);
  REQUIRE(m.size() == 1);
  CHECK(m[0].symbol == "NR_CPUS");
}

TEST_CASE("kernel version from a Makefile") {
  CHECK(kernel_version_from_makefile("# SPDX\nVERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 117\nEXTRAVERSION =\nNAME = x\n") ==
        "6.12.117");
  CHECK(kernel_version_from_makefile("VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\nEXTRAVERSION = -rc1\n") == "6.1.0-rc1");
  CHECK_FALSE(kernel_version_from_makefile("all:\n\ttrue\n"));
  CHECK(fnv1a64_hex("") == "cbf29ce484222325");
}

TEST_CASE("Kbuild quiet lines are parsed - other make output is not") {
  auto cc = parse_kbuild_line("  CC      kernel/sched/core.o");
  REQUIRE(cc);
  CHECK(cc->tool == "CC");
  CHECK(cc->target == "kernel/sched/core.o");
  CHECK(is_compile_step(*cc));
  auto m = parse_kbuild_line("  CC [M]  drivers/net/virtio_net.o");
  REQUIRE(m);
  CHECK(m->tool == "CC [M]");
  CHECK(is_compile_step(*m));
  auto as = parse_kbuild_line("  AS      arch/x86/entry/entry_64.o");
  REQUIRE(as);
  CHECK(is_compile_step(*as));
  auto ld = parse_kbuild_line("  LD      vmlinux.o");
  REQUIRE(ld);
  CHECK_FALSE(is_compile_step(*ld));
  auto host = parse_kbuild_line("  HOSTCC  scripts/basic/fixdep");
  REQUIRE(host);
  CHECK_FALSE(is_compile_step(*host));
  CHECK_FALSE(parse_kbuild_line("make[1]: Entering directory '/src/linux'"));
  CHECK_FALSE(parse_kbuild_line("kernel/sched/core.c:12:5: warning: unused variable 'x'"));
  CHECK_FALSE(parse_kbuild_line("   12 |   int x;"));
  CHECK_FALSE(parse_kbuild_line(""));
}

TEST_CASE("make progress: count, estimate and rendering") {
  MakeProgress p(100, true);
  CHECK_FALSE(p.feed("  HOSTCC  scripts/basic/fixdep"));
  for (int i = 0; i < 50; ++i) CHECK(p.feed("  CC      kernel/f" + std::to_string(i) + ".o"));
  CHECK(p.compiled() == 50);
  CHECK(p.last_target() == "kernel/f49.o");
  REQUIRE(p.seconds_left(100));
  CHECK(*p.seconds_left(100) == Approx(100));
  CHECK_THAT(p.render(100), Catch::StartsWith("50/~100 objects (50%)  1m40s elapsed  ~1m40s left  kernel/f49.o"));
  for (int i = 0; i < 60; ++i) p.feed("  CC      mm/g" + std::to_string(i) + ".o");
  CHECK(p.expected() > p.compiled());  // a low guess grows ahead of the count
  MakeProgress exact(200, false);
  exact.feed("  CC      a/b.o");
  CHECK_THAT(exact.render(1), Catch::StartsWith("1/200 objects (0%)  1s elapsed  a/b.o"));
  MakeProgress unknown;
  unknown.feed("  CC      a/b.o");
  CHECK(unknown.render(5) == "1 objects  5s elapsed  a/b.o");
  CHECK(format_duration(2172) == "36m12s");
  CHECK(format_duration(3720) == "1h02m");
}

TEST_CASE("the object estimate walks Kbuild makefiles by the config") {
  fs::path tree = fs::temp_directory_path() / ("ktstr-test-kbuild-estimate-" + std::to_string(::getpid()));
  fs::remove_all(tree);
  auto put = [&](const std::string& rel, const std::string& text) {
    fs::create_directories((tree / rel).parent_path());
    std::ofstream(tree / rel) << text;
  };
  put("Kbuild", "obj-y += init/\nobj-y += arch/$(SRCARCH)/\nobj-y += $(ARCH_CORE)\nobj-$(CONFIG_NET) += net/\n"
                "obj-$(CONFIG_SOUND) += sound/\nobj-y += drivers/\n");
  put("Makefile", "all:\n");
  put("init/Makefile", "obj-y := main.o version.o \\\n\tcalibrate.o\n# obj-y += commented.o\n");
  put("arch/x86/Makefile", "libs-y += arch/x86/lib/\ndrivers-$(CONFIG_PCI) += arch/x86/pci/\n");
  put("arch/x86/Kbuild", "obj-y += kernel/\n");
  put("arch/x86/Makefile.ignored", "obj-y += nothing.o\n");
  put("arch/x86/kernel/Makefile", "obj-y += setup.o\nobj-$(CONFIG_SMP) += smp.o\nobj-$(CONFIG_X) += x.o\n"
                                  "\t@echo obj-y = recipe.o\n");
  put("arch/x86/lib/Makefile", "lib-y := memcpy.o\n");
  put("arch/x86/pci/Makefile", "obj-y += pci.o\n");
  put("lib/Makefile", "lib-y := string.o\nobj-y += sort.o\n");
  put("net/Makefile", "obj-y += socket.o\n");
  put("sound/Makefile", "obj-y += sound.o\n");
  put("drivers/Makefile", "obj-$(CONFIG_EXT4) += ext4.o\next4-y := a.o b.o\next4-$(CONFIG_ACL) += acl.o\n"
                          "obj-$(CONFIG_VIRTIO) += virtio/\n");
  put("drivers/virtio/Makefile", "obj-y += virtio.o\n");
  auto config = parse_kconfig("CONFIG_NET=y\nCONFIG_SMP=y\nCONFIG_PCI=y\nCONFIG_EXT4=y\nCONFIG_ACL=y\nCONFIG_VIRTIO=m\n");
  // init 3 + setup, smp + memcpy + pci + string, sort + socket + ext4's a, b, acl.
  CHECK(estimate_kbuild_objects(tree, config) == 3 + 2 + 1 + 1 + 2 + 1 + 3);
  CHECK(estimate_kbuild_objects(tree / "nonexistent", config) == 0);
  fs::remove_all(tree);
}
