#pragma once
// A value's bytes rendered with a BTF type (a BPF program's BTF, read from the guest):
// flattened to named leaves ("stats.nr_enqueued" = "12", "comm" = "\"kworker\"", "slots[2]"
// = "7"). The BTF and the bytes are untrusted: every offset is checked against the bytes,
// type chains and nesting are bounded, and the output is capped (RenderLimits).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

struct btf;

namespace ktstr::guest_kernel {

struct RenderedField {
  std::string name;   ///< member path; "" for a scalar value itself
  std::string value;  ///< decimal, enumerator name, 0x-hex pointer, quoted string, or <why not>
};

struct RenderLimits {
  size_t max_fields = 64;       ///< leaves per value
  size_t max_array_elems = 8;   ///< elements shown per array (char arrays: as one string)
  size_t max_string = 64;       ///< bytes of a char array shown
  size_t max_hex = 32;          ///< bytes shown when there is no type to render with
};

struct Rendered {
  std::vector<RenderedField> fields;
  bool truncated = false;  ///< fields or array elements past the limits were left out
};

/// Renders `bytes` as BTF type `type_id` of `btf` (a DATASEC: each variable by name).
/// A type that cannot be rendered gives one field saying why.
Rendered render_btf_value(const struct btf* btf, uint32_t type_id, std::span<const uint8_t> bytes,
                          const RenderLimits& limits = {});

/// Up to `max` bytes as "0x" + lower-case hex pairs, "..." when longer.
std::string hex_bytes(std::span<const uint8_t> bytes, size_t max);

}  // namespace ktstr::guest_kernel
