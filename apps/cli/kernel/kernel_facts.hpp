#pragma once
// What the monitor needs of one kernel image (guest_kernel::describe_kernel: its layout and
// symbols), cached under <cache>/kernel-facts/<sha256 of the image>.json so a run pays for
// decompressing and decoding once per image. A damaged cache entry is a miss.
#include <filesystem>
#include <string>

#include "kvm/guest_kernel/kernel_layout.hpp"
#include "kvm/guest_kernel/symbol_table.hpp"

namespace ktstr::cli {

struct KernelFacts {
  bool ok = false;
  guest_kernel::KernelLayout layout;
  std::string why;  ///< when !ok: the reason first ("no BTF: ..."), for "monitor unavailable: <why>"
  guest_kernel::SymbolTable symbols;  ///< link-time addresses, to symbolize a rip
  std::string symbol_source;          ///< "kallsyms" or "System.map"
  bool from_cache = false;
};

/// Never throws: a kernel that cannot be described comes back with ok=false and why.
/// A System.map, when given, is used instead of kallsyms (and keys the cache entry too).
KernelFacts load_kernel_facts(const std::filesystem::path& cache_dir, const std::filesystem::path& bzimage,
                              const std::filesystem::path& system_map = {});

/// The cache file load_kernel_facts uses for these inputs; empty when they are unreadable.
std::filesystem::path kernel_facts_path(const std::filesystem::path& cache_dir, const std::filesystem::path& bzimage,
                                        const std::filesystem::path& system_map = {});

}  // namespace ktstr::cli
