#pragma once
// The leaves of a kernel xarray (an idr's radix tree: include/linux/xarray.h) read from
// guest memory, depth first and bounded: every node pointer validated, at most kMaxNodes
// nodes, depth <= kMaxDepth, each node visited once (a cycle is named, not followed).
#include <cstdint>
#include <string>
#include <vector>

#include "kvm/guest_kernel/kernel_address_space.hpp"
#include "kvm/guest_kernel/kernel_layout.hpp"

namespace ktstr::guest_kernel {

struct XarrayWalk {
  std::vector<uint64_t> leaves;        ///< non-null pointer entries, in index order, at most max_leaves
  uint64_t leaves_seen = 0;            ///< also those past max_leaves
  std::vector<std::string> problems;   ///< an unreadable or inconsistent node, a cycle (at most kMaxProblems)
};

struct XarrayLayout {
  Field node_shift;  ///< xa_node.shift
  Field node_slots;  ///< xa_node.slots (XA_CHUNK_SIZE pointers)
};

inline constexpr uint32_t kXarrayMaxNodes = 4096;
inline constexpr uint32_t kXarrayMaxDepth = 11;  ///< 64-bit indices, 6 bits a level
inline constexpr size_t kXarrayMaxProblems = 16;

/// Walks the xarray whose xa_head is `head` (the value read from xa_head, not its address).
XarrayWalk walk_xarray(const KernelAddressSpace& space, const XarrayLayout& layout, uint64_t head, size_t max_leaves);

}  // namespace ktstr::guest_kernel
