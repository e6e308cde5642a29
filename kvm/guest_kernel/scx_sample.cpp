// GuestKernel::sample_scx and what this kernel cannot give (GUEST-KERNEL.md §2, §4).
#include <algorithm>

#include "kvm/guest_kernel/guest_kernel.hpp"

namespace ktstr::guest_kernel {
namespace {

constexpr uint64_t kMaxEnableState = 3;  // DISABLED
constexpr size_t kOpsNameMax = 128;      // SCX_OPS_NAME_LEN

/// NONE, DONE, the UNREG kinds (64..) and the ERROR kinds (1024..): anything else is torn.
bool plausible_exit_kind(uint64_t kind) { return kind <= 1 || (kind >= 64 && kind < 2048); }

Reading checked(Reading r, bool (*valid)(uint64_t)) {
  if (r.ok && !valid(r.value)) r = {};
  return r;
}

}  // namespace

ScxGlobals GuestKernel::sample_scx() const {
  ScxGlobals g;
  const auto& sym = layout_.symbols;
  if (sym.jiffies_64 != 0) g.jiffies = space_.read_u64(slid(sym.jiffies_64));
  if (sym.scx_watchdog_timeout != 0) g.watchdog_timeout = space_.read_u64(slid(sym.scx_watchdog_timeout));
  if (sym.scx_ops_enable_state_var != 0)
    g.enable_state = checked(space_.read_u32(slid(sym.scx_ops_enable_state_var)), [](uint64_t v) { return v <= kMaxEnableState; });

  // 6.12-6.15: globals. 6.16+: the exit kind and the ops live in *scx_root (none when NULL).
  uint64_t ops = sym.scx_ops != 0 ? slid(sym.scx_ops) : 0;
  if (sym.scx_exit_kind != 0) {
    g.exit_kind = checked(space_.read_u32(slid(sym.scx_exit_kind)), plausible_exit_kind);
  } else if (sym.scx_root != 0) {
    const auto root = space_.read_u64(slid(sym.scx_root));
    if (root.ok && root.value == 0) {
      g.ops_name_ok = layout_.ops_name.present();  // no scheduler attached: no name, and no exit kind to read
      return g;
    }
    if (!root.ok || !space_.plausible_pointer(root.value, 8)) return g;
    ops = root.value;  // struct scx_sched starts with its sched_ext_ops
    if (layout_.scx_sched_exit_kind.present())
      g.exit_kind = checked(space_.read_u32(root.value + layout_.scx_sched_exit_kind.offset), plausible_exit_kind);
  }
  if (ops != 0 && layout_.ops_name.present()) {
    const auto name = space_.read_string(ops + layout_.ops_name.offset, std::min<size_t>(kOpsNameMax, layout_.ops_name.size));
    g.ops_name_ok = name.has_value();
    if (name) g.ops_name = *name;
  }
  return g;
}

std::map<std::string, std::string> GuestKernel::unavailable() const {
  std::map<std::string, std::string> out;
  // The layout's own reason for path or its closest enclosing path, else a generic one.
  auto reason = [this](std::string path) {
    const std::string asked = path;
    while (!path.empty()) {
      if (auto it = layout_.missing.find(path); it != layout_.missing.end()) return it->second;
      const auto dot = path.rfind('.');
      path = dot == std::string::npos ? "" : path.substr(0, dot);
    }
    return asked + ": not in this kernel's layout";
  };
  auto need_field = [&](const char* name, const Field& f, const char* path) {
    if (!f.present()) out.emplace(name, reason(path));
  };
  auto need_symbol = [&](const char* name, uint64_t address, const char* symbol) {
    if (address == 0) out.emplace(name, reason(symbol));
  };

  const char* rq_fields[] = {"nr_running", "cfs_h_nr_queued", "scx_nr_running", "local_dsq_nr", "scx_flags", "clock", "curr", "runnable"};
  std::string percpu_gap;
  if (layout_.runqueues == 0) percpu_gap = reason("runqueues");
  else if (located_.cpus.empty()) percpu_gap = "__per_cpu_offset/__cpu_online_mask: not in this kernel's layout";
  if (!percpu_gap.empty())
    for (const char* name : rq_fields) out.emplace(name, percpu_gap);

  const auto& rq = layout_.rq;
  need_field("nr_running", rq.nr_running, "rq.nr_running");
  need_field("cfs_h_nr_queued", rq.cfs_h_nr_queued, "rq.cfs.h_nr_queued");
  need_field("scx_nr_running", rq.scx_nr_running, "rq.scx.nr_running");
  need_field("local_dsq_nr", rq.scx_local_dsq_nr, "rq.scx.local_dsq.nr");
  need_field("scx_flags", rq.scx_flags, "rq.scx.flags");
  need_field("clock", rq.clock, "rq.clock");
  need_field("curr", rq.curr, "rq.curr");
  need_field("curr", layout_.task.pid, "task_struct.pid");
  need_field("runnable", rq.scx_runnable_list, "rq.scx.runnable_list");
  need_field("runnable", layout_.task.scx_runnable_node, "task_struct.scx.runnable_node");

  const auto& sym = layout_.symbols;
  need_symbol("jiffies", sym.jiffies_64, "jiffies_64");
  need_symbol("enable_state", sym.scx_ops_enable_state_var, "scx_ops_enable_state_var");
  need_symbol("watchdog_timeout", sym.scx_watchdog_timeout, "scx_watchdog_timeout");
  if (sym.scx_exit_kind == 0 && !(sym.scx_root != 0 && layout_.scx_sched_exit_kind.present()))
    out.emplace("exit_kind", reason("scx_exit_kind"));
  if (sym.scx_ops == 0 && sym.scx_root == 0) out.emplace("ops_name", reason("scx_ops"));
  need_field("ops_name", layout_.ops_name, "sched_ext_ops.name");
  return out;
}

}  // namespace ktstr::guest_kernel
