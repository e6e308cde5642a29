#pragma once
// The monitor: what it asks the BSP for to find the running kernel (cpu_state), what it
// samples (the guest_kernel shapes, made messages here), the state a freeze reads while
// every vCPU stands still, and its report (its answer to monitor_report_atom).
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "kvm/guest_kernel/bpf_maps.hpp"
#include "kvm/guest_kernel/cpu_sample.hpp"

namespace ktstr::msg {

/// Monitor -> a vcpu (then a native kick): read your MSR_LSTAR, CR3 and CR4.
struct cpu_state_query {
  uint64_t id = 0;
};

/// The vcpu's answer, read on its own thread between two KVM_RUNs.
struct cpu_state {
  uint64_t id = 0;
  uint32_t vcpu = 0;
  bool ok = false;
  std::string error;  ///< when !ok
  uint64_t lstar = 0, cr3 = 0, cr4 = 0;
};

/// The guest's scheduler state at one moment: every online CPU's runqueue and the
/// sched_ext globals; or why it could not be read. A freeze also reads the BPF maps
/// (bpf.ok false with bpf.unavailable saying why, e.g. in a periodic sample: not read).
struct guest_state {
  bool ok = false;
  std::string unavailable;  ///< when !ok: "monitor unavailable: ..."
  guest_kernel::ScxGlobals scx;
  std::vector<guest_kernel::CpuSample> cpus;
  guest_kernel::BpfState bpf;
};

/// One periodic sample, taken without stopping the guest.
struct monitor_sample {
  double at_s = 0;  ///< host seconds since VM start
  guest_kernel::ScxGlobals scx;
  std::vector<guest_kernel::CpuSample> cpus;
  /// Host CPU time each vCPU thread has used so far (ns, index = vCPU; 0: unknown):
  /// tells a CPU that ran guest code from one that sat halted.
  std::vector<uint64_t> vcpu_run_ns;
};

/// The sched_ext exit kind changed (attach -> NONE, an error claim, UNREG*, -> DONE),
/// with the exit info read at that moment.
struct scx_exit_event {
  double at_s = 0;
  uint64_t from = 0, to = 0;
  std::string via;  ///< what saw it first: "poll" or "watchpoint" (slot 0 hit)
  guest_kernel::ScxExitInfo info;
  bool froze = false;  ///< this event asked the freeze coordinator for a snapshot
  int32_t vcpu = -1;   ///< the writer, from a watchpoint hit (-1: not known, e.g. seen by polling only)
  uint64_t rip = 0;    ///< the instruction after the write (a watchpoint hit's pc); 0: not known
};

/// A watched kernel word (run --watch, slots 1-3) changed.
struct watch_event {
  uint32_t slot = 0;
  double at_s = 0;
  uint64_t old_value = 0, new_value = 0;
  std::string via;  ///< what saw it first: "poll" or "watchpoint"
  bool froze = false;
  int32_t vcpu = -1;  ///< the writer, from a watchpoint hit (-1: not known)
  uint64_t rip = 0;   ///< the instruction after the write; 0: not known
};

/// One watched word and what became of it.
struct watch_summary {
  uint32_t slot = 0;
  std::string spec;      ///< as given: "total_forks:8,freeze"
  std::string symbol;
  uint64_t address = 0;  ///< runtime (slid) address
  uint32_t length = 0;
  bool freeze = false;
  uint64_t changes = 0;  ///< every change seen, also those past the event bound
  int32_t from_step = -1;   ///< a scenario's watch op: watched from this step on (-1: from the start)
  std::string when;         ///< a change is an event only when the new value meets this (">= 100"); empty: every change
  double active_at_s = -1;  ///< when watching began (-1: never, e.g. its step never started)
};

/// The guest agent started scenario step `index` (the run forwards it through the vm actor
/// to the monitor: a scenario's watch op is watched from its step on).
struct scenario_step {
  uint32_t index = 0;
};

/// A sampled field this kernel cannot give, and why.
struct monitor_unavailable_field {
  std::string field;
  std::string reason;
};

/// Everything the monitor saw.
struct monitor_report {
  int64_t period_ms = 0;
  bool available = false;
  std::string unavailable;  ///< when !available: why there are no samples
  std::string release;      ///< the kernel release the layout was taken from
  std::string banner;       ///< linux_banner as read from guest memory (the self-check)
  int64_t slide = 0;        ///< KASLR: runtime minus link-time address of the kernel image
  uint64_t page_offset_base = 0;
  bool five_level = false;
  double located_at_s = -1;  ///< when the kernel was found in guest memory
  std::vector<monitor_unavailable_field> fields_unavailable;
  std::vector<monitor_sample> samples;
  uint64_t samples_dropped = 0;  ///< samples beyond the bound, not kept
  double sampling_s = 0;         ///< host time spent reading guest memory, all samples
  int64_t exit_poll_ms = 0;      ///< the exit kind's polling period (0: not watched)
  std::string exit_watch;        ///< how the exit kind is watched, or why it is not
  std::string watch_path;        ///< "hardware", "hardware+polling" (armed, never tested) or "polling"
  std::string watch_path_detail; ///< what was tried and decided: "hardware watchpoints did not fire on this host (...)"
  uint64_t watchpoint_hits = 0;  ///< hardware hits on any slot
  std::vector<scx_exit_event> exit_events;
  std::vector<watch_summary> watches;
  std::vector<watch_event> watch_events;  ///< bounded (10000); watches[].changes counts all
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cpu_state_query& x) {
  return f(caf::meta::type_name("cpu_state_query"), x.id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cpu_state& x) {
  return f(caf::meta::type_name("cpu_state"), x.id, x.vcpu, x.ok, x.error, x.lstar, x.cr3, x.cr4);
}
}  // namespace ktstr::msg

// The guest_kernel shapes travel in messages: their inspect lives here, with the others.
namespace ktstr::guest_kernel {
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, Reading& x) {
  return f(caf::meta::type_name("reading"), x.value, x.ok);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, TaskSummary& x) {
  return f(caf::meta::type_name("task_summary"), x.ok, x.pid, x.comm, x.policy);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, RunnableTask& x) {
  return f(caf::meta::type_name("runnable_task"), x.pid, x.comm, x.runnable_at);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, CpuSample& x) {
  return f(caf::meta::type_name("cpu_sample"), x.cpu, x.nr_running, x.cfs_h_nr_queued, x.scx_nr_running,
           x.local_dsq_nr, x.scx_flags, x.clock, x.curr, x.runnable_ok, x.runnable_truncated, x.runnable);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ScxExitInfo& x) {
  return f(caf::meta::type_name("scx_exit_info"), x.ok, x.unavailable, x.kind, x.exit_code, x.reason, x.msg,
           x.backtrace);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ScxGlobals& x) {
  return f(caf::meta::type_name("scx_globals"), x.jiffies, x.enable_state, x.exit_kind, x.watchdog_timeout,
           x.ops_name_ok, x.ops_name);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, RenderedField& x) {
  return f(caf::meta::type_name("rendered_field"), x.name, x.value);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, BpfEntry& x) {
  return f(caf::meta::type_name("bpf_entry"), x.key, x.value, x.truncated);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, BpfMap& x) {
  return f(caf::meta::type_name("bpf_map"), x.address, x.id, x.name, x.type, x.type_name, x.key_size, x.value_size,
           x.max_entries, x.map_flags, x.btf_key_type_id, x.btf_value_type_id, x.btf, x.btf_note, x.entries_walked,
           x.entries, x.entries_truncated, x.entries_note);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, BpfState& x) {
  return f(caf::meta::type_name("bpf_state"), x.ok, x.unavailable, x.maps, x.maps_seen, x.problems);
}
}  // namespace ktstr::guest_kernel

namespace ktstr::msg {
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, guest_state& x) {
  return f(caf::meta::type_name("guest_state"), x.ok, x.unavailable, x.scx, x.cpus, x.bpf);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, monitor_sample& x) {
  return f(caf::meta::type_name("monitor_sample"), x.at_s, x.scx, x.cpus, x.vcpu_run_ns);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, scx_exit_event& x) {
  return f(caf::meta::type_name("scx_exit_event"), x.at_s, x.from, x.to, x.via, x.info, x.froze, x.vcpu,
           x.rip);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, watch_event& x) {
  return f(caf::meta::type_name("watch_event"), x.slot, x.at_s, x.old_value, x.new_value, x.via, x.froze,
           x.vcpu, x.rip);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, watch_summary& x) {
  return f(caf::meta::type_name("watch_summary"), x.slot, x.spec, x.symbol, x.address, x.length, x.freeze, x.changes,
           x.from_step, x.when, x.active_at_s);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, scenario_step& x) {
  return f(caf::meta::type_name("scenario_step"), x.index);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, monitor_unavailable_field& x) {
  return f(caf::meta::type_name("monitor_unavailable_field"), x.field, x.reason);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, monitor_report& x) {
  return f(caf::meta::type_name("monitor_report"), x.period_ms, x.available, x.unavailable, x.release, x.banner,
           x.slide, x.page_offset_base, x.five_level, x.located_at_s, x.fields_unavailable, x.samples,
           x.samples_dropped, x.sampling_s, x.exit_poll_ms, x.exit_watch, x.watch_path,
           x.watch_path_detail, x.watchpoint_hits, x.exit_events,
           x.watches, x.watch_events);
}
}  // namespace ktstr::msg
