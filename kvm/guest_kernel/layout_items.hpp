#pragma once
// The items of a KernelLayout by name, in one list: describe_kernel fills them, the JSON
// cache writes and reads them, `kernel inspect` prints them. Names are the kernel's own
// (symbol names, "struct.member.path"), with the spellings other releases use.
#include <cstdint>
#include <string_view>
#include <vector>

#include "kvm/guest_kernel/kernel_layout.hpp"

namespace ktstr::guest_kernel {

struct SymbolItem {
  std::string_view name;                  ///< as shown and stored
  std::vector<std::string_view> spellings;  ///< looked up in this order
  uint64_t KernelLayout::Symbols::*member;
};

struct FieldItem {
  std::string_view name;              ///< "rq.cfs.h_nr_queued"
  std::vector<std::string_view> paths;  ///< BTF member paths, first found wins
  Field& (*get)(KernelLayout&);
};

const std::vector<SymbolItem>& symbol_items();
const std::vector<FieldItem>& field_items();

inline const Field& field_of(const KernelLayout& layout, const FieldItem& item) {
  return item.get(const_cast<KernelLayout&>(layout));  // get() only selects a member
}

}  // namespace ktstr::guest_kernel
