// GuestKernel::read_exit_kind and read_exit_info: why the sched_ext scheduler exited
// (GUEST-KERNEL.md §2: the kind is claimed first, then exit_code, backtrace and msg are
// written; the struct is freed at the end of the disable, so it may be gone or torn).
#include "kvm/guest_kernel/guest_kernel.hpp"

namespace ktstr::guest_kernel {
namespace {

constexpr size_t kExitMsgMax = 1024;   // SCX_EXIT_MSG_LEN
constexpr size_t kReasonMax = 128;
constexpr uint64_t kBacktraceMax = 64;  // SCX_EXIT_BT_LEN

bool plausible_exit_kind(uint64_t kind) { return kind <= 1 || (kind >= 64 && kind < 2048); }

}  // namespace

std::optional<uint64_t> GuestKernel::exit_kind_address() const {
  const auto& sym = layout_.symbols;
  if (sym.scx_exit_kind != 0) return slid(sym.scx_exit_kind);
  if (sym.scx_root == 0 || !layout_.scx_sched_exit_kind.present()) return std::nullopt;
  const auto root = space_.read_u64(slid(sym.scx_root));
  if (!root.ok || root.value == 0 || !space_.plausible_pointer(root.value, 8)) return std::nullopt;
  return root.value + layout_.scx_sched_exit_kind.offset;
}

Reading GuestKernel::read_exit_kind() const {
  const auto at = exit_kind_address();
  if (!at) return {};
  const auto kind = space_.read_u32(*at);
  if (kind.ok && !plausible_exit_kind(kind.value)) return {};
  return kind;
}

ScxExitInfo GuestKernel::read_exit_info() const {
  ScxExitInfo out;
  const auto& ei = layout_.exit_info;
  if (layout_.symbols.scx_exit_info == 0 || !ei.kind.present() || !ei.msg.present()) {
    out.unavailable = "no scx_exit_info in this kernel's symbols and BTF";
    return out;
  }
  const auto ptr = space_.read_u64(slid(layout_.symbols.scx_exit_info));
  if (!ptr.ok) {
    out.unavailable = "scx_exit_info is unreadable";
    return out;
  }
  if (ptr.value == 0) {
    out.unavailable = "no exit info (none allocated, or already freed)";
    return out;
  }
  if (!space_.plausible_pointer(ptr.value, 8)) {
    out.unavailable = "scx_exit_info points outside the kernel";
    return out;
  }
  const auto kind = space_.read_u32(ptr.value + ei.kind.offset);
  if (!kind.ok || !plausible_exit_kind(kind.value)) {
    out.unavailable = "the exit info's kind is unreadable or torn";
    return out;
  }
  out.ok = true;
  out.kind = kind.value;
  if (ei.exit_code.present())
    if (auto code = space_.read_u64(ptr.value + ei.exit_code.offset); code.ok) out.exit_code = static_cast<int64_t>(code.value);
  auto string_at = [&](const Field& f, size_t max) -> std::string {
    if (!f.present()) return {};
    const auto p = space_.read_u64(ptr.value + f.offset);
    if (!p.ok || p.value == 0 || !space_.plausible_pointer(p.value, 1)) return {};
    return space_.read_string(p.value, max).value_or("");
  };
  out.reason = string_at(ei.reason, kReasonMax);
  out.msg = string_at(ei.msg, kExitMsgMax);
  if (ei.bt.present() && ei.bt_len.present()) {
    const auto bt = space_.read_u64(ptr.value + ei.bt.offset);
    const auto len = space_.read_u32(ptr.value + ei.bt_len.offset);
    if (bt.ok && len.ok && bt.value != 0 && space_.plausible_pointer(bt.value, 8))
      for (uint64_t i = 0; i < std::min(len.value, kBacktraceMax); ++i) {
        const auto frame = space_.read_u64(bt.value + 8 * i);
        if (!frame.ok) break;
        out.backtrace.push_back(frame.value);
      }
  }
  return out;
}

}  // namespace ktstr::guest_kernel
