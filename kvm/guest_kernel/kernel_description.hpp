#pragma once
// Everything a monitor needs from one kernel image, read before boot: the payload
// decompressed, its symbols (kallsyms, or a System.map when given), its BTF, and from
// them the KernelLayout.
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

#include "kvm/guest_kernel/btf_layout.hpp"
#include "kvm/guest_kernel/kernel_layout.hpp"
#include "kvm/guest_kernel/symbol_table.hpp"

namespace ktstr::guest_kernel {

struct KernelDescription {
  KernelLayout layout;
  SymbolTable symbols;
  std::string symbol_source;  ///< "kallsyms" or "System.map"
  std::string codec;          ///< the payload's compression
  size_t compressed_size = 0, payload_size = 0, btf_size = 0;
  double decompress_seconds = 0, symbols_seconds = 0, btf_seconds = 0;
  std::shared_ptr<const BtfLayout> btf;  ///< for lookups beyond the layout (`kernel inspect --type`)
};

/// Reads `bzimage` (and `system_map` when not empty, instead of decoding kallsyms).
/// Throws kvm::Error{kernel_image} when the file is missing or not a bzImage, and
/// ImageError when the kernel cannot be described: no BTF, no kallsyms and no System.map,
/// a corrupt payload. The message starts with the reason ("no BTF: ...").
/// Items a kernel lacks (sched_ext before 6.12, scx_root before 6.16) are not errors:
/// they are left 0 and listed in layout.missing.
KernelDescription describe_kernel(const std::filesystem::path& bzimage, const std::filesystem::path& system_map = {});

/// "6.12.117-scx" from "Linux version 6.12.117-scx (user@host) ..."; empty if not one.
std::string release_from_banner(std::string_view banner);

}  // namespace ktstr::guest_kernel
