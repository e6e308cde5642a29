#pragma once
// What a monitor needs to know about one kernel build, taken from its image before boot:
// link-time addresses of a few symbols (before the KASLR slide) and struct member offsets
// from its BTF. Built by describe_kernel() (kernel_description.hpp); read by the live
// readers (guest_kernel.hpp). Absent items stay 0 / absent, with the reason in `missing`.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ktstr::guest_kernel {

/// A struct member: byte offset from the start of the outer struct, and its size.
struct Field {
  uint32_t offset = 0;
  uint32_t size = 0;  ///< 0: absent from this kernel
  bool present() const { return size != 0; }
};

struct KernelLayout {
  std::string release;  ///< from the image's linux_banner ("6.12.117-scx"), empty if unknown

  /// Link-time addresses (0: unknown). Kernel-image symbols get the slide added at run time.
  struct Symbols {
    uint64_t text = 0;                ///< _text
    uint64_t entry_syscall_64 = 0;    ///< what MSR_LSTAR holds (plus the slide)
    uint64_t linux_banner = 0;
    uint64_t page_offset_base = 0;
    uint64_t pgtable_l5_enabled = 0;  ///< __pgtable_l5_enabled (u32)
    uint64_t per_cpu_offset = 0;      ///< __per_cpu_offset[NR_CPUS]
    uint64_t cpu_online_mask = 0;     ///< __cpu_online_mask
    uint64_t nr_cpu_ids = 0;
    uint64_t jiffies_64 = 0;
    uint64_t init_top_pgt = 0;
    uint64_t scx_watchdog_timeout = 0;
    uint64_t scx_exit_kind = 0;             ///< 6.12-6.15
    uint64_t scx_ops_enable_state_var = 0;  ///< 6.12-6.15
    uint64_t scx_ops = 0;                   ///< struct sched_ext_ops (6.12-6.15)
    uint64_t scx_exit_info = 0;             ///< struct scx_exit_info * (6.12-6.15)
    uint64_t scx_root = 0;                  ///< 6.16+
    uint64_t map_idr = 0;                   ///< struct idr of every BPF map (kernel/bpf/syscall.c)
  } symbols;

  /// Per-CPU variables: offset within a CPU's area when `percpu_zero_based` (<= 6.14),
  /// else a link-time address (slid like any other).
  uint64_t runqueues = 0;
  bool percpu_zero_based = true;
  uint32_t nr_cpus_max = 0;  ///< length of __per_cpu_offset[] (NR_CPUS), 0 if unknown

  struct Rq {
    uint32_t size = 0;
    Field nr_running, cfs_nr_running, cfs_h_nr_queued;  ///< h_nr_queued or h_nr_running
    Field scx_local_dsq_nr, scx_runnable_list, scx_nr_running, scx_flags;
    Field curr, clock, cpu;
  } rq;
  struct Task {
    Field pid, comm, policy, state;              ///< state: __state
    Field scx_runnable_node, scx_runnable_at, scx_flags;
  } task;
  Field ops_name;            ///< sched_ext_ops.name (char[])
  Field ops_timeout_ms;      ///< sched_ext_ops.timeout_ms
  Field scx_sched_exit_kind; ///< scx_sched.exit_kind (6.16+)
  /// struct scx_exit_info: why the scheduler exited (kernel/sched/ext.c).
  struct ExitInfo {
    Field kind, exit_code, reason, bt, bt_len, msg;
  } exit_info;
  /// BPF maps (kernel/bpf/): the map_idr xarray, struct bpf_map, the array and hash map
  /// containers, and the program BTF a map points at. A flexible array member (bpf_array.value,
  /// htab_elem.key) resolves to its offset and the size of one element.
  struct Bpf {
    Field idr_xa_head;                 ///< idr.idr_rt.xa_head
    Field xa_node_shift, xa_node_slots;
    Field map_name, map_type, key_size, value_size, max_entries, map_flags, id, btf, btf_key_type_id,
        btf_value_type_id;
    Field array_map, array_elem_size, array_value;  ///< bpf_array.{map, elem_size, value}
    Field btf_data, btf_data_size;                  ///< struct btf
    Field htab_map, htab_buckets, htab_n_buckets;   ///< struct bpf_htab
    Field bucket_head;                              ///< bucket.head.first
    Field elem_hash_node, elem_key;                 ///< htab_elem.{hash_node.next, key}
    uint32_t bucket_size = 0;                       ///< sizeof(struct bucket)
  } bpf;

  /// What could not be found, and why ("rq.scx: no such member in BTF"): the readers
  /// report the dependent fields as unavailable with this reason.
  std::map<std::string, std::string> missing;

  bool has_sched_ext() const { return scx_exit_kind_known() && rq.scx_nr_running.present(); }
  bool scx_exit_kind_known() const { return symbols.scx_exit_kind != 0 || symbols.scx_root != 0; }
};

}  // namespace ktstr::guest_kernel
