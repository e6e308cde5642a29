#pragma once
// Struct layouts from a kernel's BTF (the .BTF section, parsed by libbpf): member paths
// such as "rq.scx.local_dsq.nr" resolved to {offset, size} through typedefs, qualifiers
// and anonymous struct/union members; per-CPU variable offsets (DATASEC .data..percpu);
// struct sizes; enum values.
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "kvm/guest_kernel/kernel_layout.hpp"

struct btf;

namespace ktstr::guest_kernel {

/// A resolved member, or why not ("rq.cfs.h_nr_queued: no member h_nr_queued in cfs_rq").
struct FieldLookup {
  Field field;
  std::string why;  ///< empty when field.present()
};

class BtfLayout {
 public:
  /// Parses raw BTF bytes (copied); throws ImageError when libbpf refuses them.
  explicit BtfLayout(std::span<const uint8_t> raw);
  ~BtfLayout();
  BtfLayout(BtfLayout&&) noexcept;
  BtfLayout& operator=(BtfLayout&&) noexcept;

  size_t raw_size() const { return raw_size_; }
  uint32_t type_count() const;

  /// "rq.scx.local_dsq.nr": the first component names a struct or union. A flexible array
  /// member ("htab_elem.key", char key[]) resolves to its offset and one element's size.
  FieldLookup member(std::string_view path) const;
  /// The first of several spellings that exists ("rq.cfs.h_nr_queued", "rq.cfs.h_nr_running").
  FieldLookup first_member(std::initializer_list<std::string_view> paths) const;
  std::optional<uint32_t> struct_size(std::string_view name) const;
  /// Offset of a per-CPU variable in DATASEC .data..percpu.
  std::optional<uint64_t> percpu_offset(std::string_view variable) const;
  /// Value of an enumerator, searched in every enum.
  std::optional<int64_t> enum_value(std::string_view enumerator) const;

 private:
  struct btf* btf_ = nullptr;
  size_t raw_size_ = 0;
};

}  // namespace ktstr::guest_kernel
