#include "kvm/guest_kernel/xarray_walk.hpp"

#include <spdlog/fmt/fmt.h>

#include <set>
#include <vector>

namespace ktstr::guest_kernel {
namespace {

constexpr uint32_t kChunkShift = 6;  // XA_CHUNK_SHIFT with CONFIG_BASE_SMALL=n
constexpr uint32_t kMaxSlots = 1u << kChunkShift;

// include/linux/xarray.h: an internal entry has low bits 10; a node is an internal entry
// above 4096 (xa_is_node); below it are sibling, retry and zero entries.
bool is_internal(uint64_t e) { return (e & 3) == 2; }
bool is_node(uint64_t e) { return is_internal(e) && e > 4096; }
bool is_pointer(uint64_t e) { return e != 0 && (e & 3) == 0; }

void problem(XarrayWalk& out, std::string what) {
  if (out.problems.size() < kXarrayMaxProblems) out.problems.push_back(std::move(what));
}

}  // namespace

XarrayWalk walk_xarray(const KernelAddressSpace& space, const XarrayLayout& layout, uint64_t head, size_t max_leaves) {
  XarrayWalk out;
  auto leaf = [&](uint64_t e) {
    ++out.leaves_seen;
    if (out.leaves.size() < max_leaves) out.leaves.push_back(e);
  };
  if (head == 0) return out;
  if (!is_node(head)) {
    if (is_pointer(head)) leaf(head);  // a single entry at index 0
    return out;
  }
  const uint32_t slots = layout.node_slots.size / 8;
  if (!layout.node_shift.present() || slots == 0 || slots > kMaxSlots) {
    problem(out, "xa_node.shift or xa_node.slots is not in this kernel's BTF");
    return out;
  }
  struct Pending {
    uint64_t node;
    uint32_t depth;
    int expected_shift;  // -1: any (the root)
  };
  std::vector<Pending> stack{{head - 2, 0, -1}};
  std::set<uint64_t> seen;
  std::vector<uint8_t> raw(slots * 8);
  while (!stack.empty()) {
    const Pending p = stack.back();
    stack.pop_back();
    if (!seen.insert(p.node).second) {
      problem(out, fmt::format("xa_node {:#x} reached twice (a cycle): not followed again", p.node));
      continue;
    }
    if (seen.size() > kXarrayMaxNodes) {
      problem(out, fmt::format("more than {} xa_nodes: the rest not walked", kXarrayMaxNodes));
      break;
    }
    if (!space.plausible_pointer(p.node, 8)) {
      problem(out, fmt::format("xa_node pointer {:#x} is not a kernel address", p.node));
      continue;
    }
    const auto shift = space.read_uint(p.node + layout.node_shift.offset, 1);
    if (!shift.ok || !space.read_bytes(p.node + layout.node_slots.offset, raw)) {
      problem(out, fmt::format("xa_node {:#x} is unreadable", p.node));
      continue;
    }
    if (shift.value % kChunkShift != 0 || shift.value > kChunkShift * (kXarrayMaxDepth - 1) ||
        (p.expected_shift >= 0 && shift.value != static_cast<uint64_t>(p.expected_shift))) {
      problem(out, fmt::format("xa_node {:#x} has shift {} (expected {}): not walked", p.node, shift.value,
                               p.expected_shift >= 0 ? std::to_string(p.expected_shift) : "a multiple of 6"));
      continue;
    }
    // Leaves taken in slot order; child nodes pushed last-first, so they pop in index order.
    for (uint32_t i = 0; i < slots; ++i) {
      uint64_t e = 0;
      for (int b = 7; b >= 0; --b) e = e << 8 | raw[i * 8 + b];
      if (is_pointer(e)) leaf(e);
    }
    for (uint32_t i = slots; i-- > 0;) {
      uint64_t e = 0;
      for (int b = 7; b >= 0; --b) e = e << 8 | raw[i * 8 + b];
      if (is_node(e)) {
        if (shift.value == 0)
          problem(out, fmt::format("xa_node {:#x} at shift 0 holds a node entry {:#x}: not followed", p.node, e));
        else if (p.depth + 1 >= kXarrayMaxDepth)
          problem(out, fmt::format("xa_node {:#x} deeper than {} levels: not followed", e - 2, kXarrayMaxDepth));
        else
          stack.push_back({e - 2, p.depth + 1, static_cast<int>(shift.value - kChunkShift)});
      }
    }
  }
  return out;
}

}  // namespace ktstr::guest_kernel
