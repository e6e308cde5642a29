#pragma once
// The kernel's own symbol table (CONFIG_KALLSYMS), decoded offline from the decompressed
// image, which has no .symtab. The tables are found by their shape, not by symbol
// (kernel/kallsyms.c, scripts/kallsyms.c): kallsyms_token_index is 256 increasing u16
// offsets into kallsyms_token_table just before it; kallsyms_markers (u32, every 256th
// name's offset, starting at 0) lies before the token table, kallsyms_names (length-
// prefixed token strings) before the markers with kallsyms_num_syms in front of it; the
// s32 kallsyms_offsets and the u64 kallsyms_relative_base follow the token index (6.12)
// or precede kallsyms_num_syms (6.1). Every candidate is checked whole (each marker, the
// names' end, addresses in order) before it is believed.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "kvm/guest_kernel/symbol_table.hpp"

namespace ktstr::guest_kernel {

/// Where the tables are: byte offsets into the searched image.
struct KallsymsTables {
  size_t token_table = 0, token_index = 0, markers = 0, names = 0, offsets = 0, relative_base = 0;
  uint32_t count = 0;            ///< kallsyms_num_syms
  uint64_t relative_base_value = 0;
  bool absolute_percpu = false;  ///< CONFIG_KALLSYMS_ABSOLUTE_PERCPU: offsets >= 0 are absolute
};

/// Upper bound on kallsyms_num_syms; a 6.x kernel with KALLSYMS_ALL has ~100-200 thousand.
inline constexpr uint32_t kMaxKallsyms = 4'000'000;

/// The tables in `image` (the payload ELF, or any window of it holding them), or nullopt.
std::optional<KallsymsTables> locate_kallsyms(std::span<const uint8_t> image);

/// The symbols (link-time addresses; per-CPU ones zero-based, type 'A', as kallsyms stores
/// them); throws ImageError when no consistent set of tables is found.
SymbolTable decode_kallsyms(std::span<const uint8_t> image);

}  // namespace ktstr::guest_kernel
