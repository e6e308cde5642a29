#pragma once
// `ktstr-actors kernel build`: a sched_ext-capable kernel from a kernel source (Debian's
// linux-source-6.12 by default) with a kconfig fragment, cached as
// <cache>/kernels/<name>/{bzImage,config,vmlinux.btf,build.json,fragment.config,sched/}.
// The recipe is the one that produced shared/fixtures/kernels/linux-6.12.117-scx:
// x86_64_defconfig, merge kvm_guest.config and the fragment, olddefconfig, bzImage.
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace ktstr::cli {

inline constexpr const char* default_kernel_source = "/usr/src/linux-source-6.12.tar.xz";

struct KernelBuildOptions {
  std::filesystem::path source = default_kernel_source;  ///< a tarball or an unpacked tree
  std::string name;                 ///< cache name; empty: linux-<version>-scx
  unsigned jobs = 0;                ///< make -j; 0: the number of online CPUs
  std::filesystem::path fragment;   ///< empty: the built-in kernel-config/sched_ext.config
  bool schedulers = false;          ///< also build tools/sched_ext and cache the scx_* binaries
  bool force = false;               ///< rebuild even when the entry is cached
  std::filesystem::path cache_dir;  ///< the cache (Environment::cache_dir)
};

/// Runs the whole pipeline; returns an exit code (exit_codes.hpp).
int kernel_build_main(const KernelBuildOptions& options);

/// The embedded kernel-config/sched_ext.config (generated source).
std::string_view builtin_kernel_fragment();

/// "6.12.117" from a kernel Makefile's VERSION/PATCHLEVEL/SUBLEVEL (EXTRAVERSION
/// appended); nullopt when they are missing.
std::optional<std::string> kernel_version_from_makefile(std::string_view makefile);

/// FNV-1a 64 of text, 16 hex digits (identifies the fragment a kernel was built with).
std::string fnv1a64_hex(std::string_view text);

}  // namespace ktstr::cli
