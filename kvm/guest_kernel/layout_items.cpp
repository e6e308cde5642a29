#include "kvm/guest_kernel/layout_items.hpp"

namespace ktstr::guest_kernel {

const std::vector<SymbolItem>& symbol_items() {
  using S = KernelLayout::Symbols;
  static const std::vector<SymbolItem> items = {
      {"_text", {"_text"}, &S::text},
      {"entry_SYSCALL_64", {"entry_SYSCALL_64"}, &S::entry_syscall_64},
      {"linux_banner", {"linux_banner"}, &S::linux_banner},
      {"page_offset_base", {"page_offset_base"}, &S::page_offset_base},
      {"__pgtable_l5_enabled", {"__pgtable_l5_enabled"}, &S::pgtable_l5_enabled},
      {"__per_cpu_offset", {"__per_cpu_offset"}, &S::per_cpu_offset},
      {"__cpu_online_mask", {"__cpu_online_mask"}, &S::cpu_online_mask},
      {"nr_cpu_ids", {"nr_cpu_ids"}, &S::nr_cpu_ids},
      {"jiffies_64", {"jiffies_64"}, &S::jiffies_64},
      {"init_top_pgt", {"init_top_pgt"}, &S::init_top_pgt},
      {"scx_watchdog_timeout", {"scx_watchdog_timeout"}, &S::scx_watchdog_timeout},
      {"scx_exit_kind", {"scx_exit_kind"}, &S::scx_exit_kind},
      {"scx_ops_enable_state_var", {"scx_ops_enable_state_var", "scx_enable_state_var"}, &S::scx_ops_enable_state_var},
      {"scx_ops", {"scx_ops"}, &S::scx_ops},
      {"scx_root", {"scx_root"}, &S::scx_root},
      {"scx_exit_info", {"scx_exit_info"}, &S::scx_exit_info},
      {"map_idr", {"map_idr"}, &S::map_idr},
  };
  return items;
}

const std::vector<FieldItem>& field_items() {
  using L = KernelLayout;
  static const std::vector<FieldItem> items = {
      {"rq.nr_running", {"rq.nr_running"}, [](L& l) -> Field& { return l.rq.nr_running; }},
      {"rq.cfs.nr_running", {"rq.cfs.nr_running"}, [](L& l) -> Field& { return l.rq.cfs_nr_running; }},
      {"rq.cfs.h_nr_queued", {"rq.cfs.h_nr_queued", "rq.cfs.h_nr_running"}, [](L& l) -> Field& { return l.rq.cfs_h_nr_queued; }},
      {"rq.scx.local_dsq.nr", {"rq.scx.local_dsq.nr"}, [](L& l) -> Field& { return l.rq.scx_local_dsq_nr; }},
      {"rq.scx.runnable_list", {"rq.scx.runnable_list"}, [](L& l) -> Field& { return l.rq.scx_runnable_list; }},
      {"rq.scx.nr_running", {"rq.scx.nr_running"}, [](L& l) -> Field& { return l.rq.scx_nr_running; }},
      {"rq.scx.flags", {"rq.scx.flags"}, [](L& l) -> Field& { return l.rq.scx_flags; }},
      {"rq.curr", {"rq.curr"}, [](L& l) -> Field& { return l.rq.curr; }},
      {"rq.clock", {"rq.clock"}, [](L& l) -> Field& { return l.rq.clock; }},
      {"rq.cpu", {"rq.cpu"}, [](L& l) -> Field& { return l.rq.cpu; }},
      {"task_struct.pid", {"task_struct.pid"}, [](L& l) -> Field& { return l.task.pid; }},
      {"task_struct.comm", {"task_struct.comm"}, [](L& l) -> Field& { return l.task.comm; }},
      {"task_struct.policy", {"task_struct.policy"}, [](L& l) -> Field& { return l.task.policy; }},
      {"task_struct.__state", {"task_struct.__state", "task_struct.state"}, [](L& l) -> Field& { return l.task.state; }},
      {"task_struct.scx.runnable_node", {"task_struct.scx.runnable_node"}, [](L& l) -> Field& { return l.task.scx_runnable_node; }},
      {"task_struct.scx.runnable_at", {"task_struct.scx.runnable_at"}, [](L& l) -> Field& { return l.task.scx_runnable_at; }},
      {"task_struct.scx.flags", {"task_struct.scx.flags"}, [](L& l) -> Field& { return l.task.scx_flags; }},
      {"sched_ext_ops.name", {"sched_ext_ops.name"}, [](L& l) -> Field& { return l.ops_name; }},
      {"sched_ext_ops.timeout_ms", {"sched_ext_ops.timeout_ms"}, [](L& l) -> Field& { return l.ops_timeout_ms; }},
      {"scx_sched.exit_kind", {"scx_sched.exit_kind"}, [](L& l) -> Field& { return l.scx_sched_exit_kind; }},
      {"scx_exit_info.kind", {"scx_exit_info.kind"}, [](L& l) -> Field& { return l.exit_info.kind; }},
      {"scx_exit_info.exit_code", {"scx_exit_info.exit_code"}, [](L& l) -> Field& { return l.exit_info.exit_code; }},
      {"scx_exit_info.reason", {"scx_exit_info.reason"}, [](L& l) -> Field& { return l.exit_info.reason; }},
      {"scx_exit_info.bt", {"scx_exit_info.bt"}, [](L& l) -> Field& { return l.exit_info.bt; }},
      {"scx_exit_info.bt_len", {"scx_exit_info.bt_len"}, [](L& l) -> Field& { return l.exit_info.bt_len; }},
      {"scx_exit_info.msg", {"scx_exit_info.msg"}, [](L& l) -> Field& { return l.exit_info.msg; }},
      {"idr.idr_rt.xa_head", {"idr.idr_rt.xa_head"}, [](L& l) -> Field& { return l.bpf.idr_xa_head; }},
      {"xa_node.shift", {"xa_node.shift"}, [](L& l) -> Field& { return l.bpf.xa_node_shift; }},
      {"xa_node.slots", {"xa_node.slots"}, [](L& l) -> Field& { return l.bpf.xa_node_slots; }},
      {"bpf_map.name", {"bpf_map.name"}, [](L& l) -> Field& { return l.bpf.map_name; }},
      {"bpf_map.map_type", {"bpf_map.map_type"}, [](L& l) -> Field& { return l.bpf.map_type; }},
      {"bpf_map.key_size", {"bpf_map.key_size"}, [](L& l) -> Field& { return l.bpf.key_size; }},
      {"bpf_map.value_size", {"bpf_map.value_size"}, [](L& l) -> Field& { return l.bpf.value_size; }},
      {"bpf_map.max_entries", {"bpf_map.max_entries"}, [](L& l) -> Field& { return l.bpf.max_entries; }},
      {"bpf_map.map_flags", {"bpf_map.map_flags"}, [](L& l) -> Field& { return l.bpf.map_flags; }},
      {"bpf_map.id", {"bpf_map.id"}, [](L& l) -> Field& { return l.bpf.id; }},
      {"bpf_map.btf", {"bpf_map.btf"}, [](L& l) -> Field& { return l.bpf.btf; }},
      {"bpf_map.btf_key_type_id", {"bpf_map.btf_key_type_id"}, [](L& l) -> Field& { return l.bpf.btf_key_type_id; }},
      {"bpf_map.btf_value_type_id", {"bpf_map.btf_value_type_id"}, [](L& l) -> Field& { return l.bpf.btf_value_type_id; }},
      {"bpf_array.map", {"bpf_array.map"}, [](L& l) -> Field& { return l.bpf.array_map; }},
      {"bpf_array.elem_size", {"bpf_array.elem_size"}, [](L& l) -> Field& { return l.bpf.array_elem_size; }},
      {"bpf_array.value", {"bpf_array.value"}, [](L& l) -> Field& { return l.bpf.array_value; }},
      {"btf.data", {"btf.data"}, [](L& l) -> Field& { return l.bpf.btf_data; }},
      {"btf.data_size", {"btf.data_size"}, [](L& l) -> Field& { return l.bpf.btf_data_size; }},
      {"bpf_htab.map", {"bpf_htab.map"}, [](L& l) -> Field& { return l.bpf.htab_map; }},
      {"bpf_htab.buckets", {"bpf_htab.buckets"}, [](L& l) -> Field& { return l.bpf.htab_buckets; }},
      {"bpf_htab.n_buckets", {"bpf_htab.n_buckets"}, [](L& l) -> Field& { return l.bpf.htab_n_buckets; }},
      {"bucket.head.first", {"bucket.head.first"}, [](L& l) -> Field& { return l.bpf.bucket_head; }},
      {"htab_elem.hash_node.next", {"htab_elem.hash_node.next"}, [](L& l) -> Field& { return l.bpf.elem_hash_node; }},
      {"htab_elem.key", {"htab_elem.key"}, [](L& l) -> Field& { return l.bpf.elem_key; }},
  };
  return items;
}

}  // namespace ktstr::guest_kernel
