#pragma once
// The monitor actor: watches the guest scheduler from the host, reading guest memory
// without stopping the guest. First it finds the running kernel: it asks the BSP's vcpu
// actor for MSR_LSTAR, CR3 and CR4 (cpu_state_query + a kick; answered on the vCPU's own
// thread; it learns that actor from its vcpu_started) until the kernel has set LSTAR, then locates the kernel image (KASLR slide,
// page walk, page_offset_base, per-CPU areas) and checks the guest's linux_banner against
// the release of the image the layout came from: any failure leaves the monitor
// unavailable with that reason, never reporting garbage. Then, every period, it samples
// every online CPU's runqueue, the sched_ext globals and each vCPU thread's host CPU time,
// and answers monitor_report_atom with the timeline (msg::monitor_report). Every
// `exit_poll` it also reads the sched_ext exit kind: each change (attach, error, unregister,
// teardown) is an event with the exit info read at that moment, and the first error exit
// asks for a snapshot (the failure dump) while the scheduler's state is still there. The
// same words are watched by the vCPUs' hardware watchpoints (slot 0: the exit kind, 1-3:
// run --watch) where they fire: a hit (watchpoint_hit) is seen at once, with the writer's
// vCPU and rip; WatchPath decides from what happens whether they fire on this host.
// It also carries out guest_write faults (actors/kernel_word_write.hpp): at once on a
// located kernel, else when it is located; answered with fault_outcome to the sender.
#include <caf/all.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/guest_view.hpp"
#include "actors/interfaces.hpp"
#include "actors/kernel_word_write.hpp"
#include "actors/watch_path.hpp"
#include "kvm/guest_kernel/kernel_layout.hpp"
#include "kvm/guest_kernel/physical_memory.hpp"
#include "kvm/guest_kernel/word_condition.hpp"

namespace ktstr::actors {

/// A kernel word to watch (run --watch), resolved to its link-time address.
struct WatchConfig {
  uint32_t slot = 1;          ///< 1-3 (0 is the exit kind)
  std::string spec;           ///< as the user wrote it
  std::string symbol;
  uint64_t link_address = 0;  ///< before the KASLR slide
  uint32_t length = 8;        ///< 1, 2, 4 or 8
  bool freeze = false;        ///< each change also asks for a snapshot
  std::optional<uint32_t> from_step;  ///< a scenario's watch op: watched from that step's start (scenario_step) on
  std::optional<guest_kernel::WordCondition> when;  ///< a change is an event only when the new value meets it
};

struct MonitorConfig {
  std::chrono::milliseconds period{100};
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();  ///< at_s is from here (VM start)
  /// The kernel's layout (symbols, BTF offsets); nullopt: the monitor is unavailable
  /// for `unavailable`'s reason and samples nothing.
  std::optional<guest_kernel::KernelLayout> layout;
  std::string unavailable;
  std::shared_ptr<const guest_kernel::PhysicalMemory> memory;
  std::function<void(uint32_t vcpu)> kick;  ///< native kick of a vCPU after each message to it (empty in tests)
  uint32_t vcpus = 0;
  std::shared_ptr<GuestView> view;  ///< filled once located; shared with the freeze coordinator
  size_t max_samples = 20000;       ///< about 33 minutes at 100 ms; later ones are counted, not kept
  /// The sched_ext exit kind is polled this often once the kernel is found (0: not watched);
  /// an error exit asks `freezer` for a snapshot, taken while the scheduler's state is there.
  std::chrono::milliseconds exit_poll{10};
  freeze_requester freezer;
  std::vector<WatchConfig> watches;  ///< polled with the exit kind, every exit_poll
  /// Also arm the vCPUs' hardware watchpoints on the exit kind (slot 0) and the watches
  /// (slots 1-3); polling goes on regardless, and decides whether they fire (WatchPath).
  bool hardware_watchpoints = true;
  std::string hardware_off_reason = "hardware watchpoints off";  ///< said when !hardware_watchpoints
  std::chrono::milliseconds watch_grace{250};  ///< a polled change with no hit this long after: they do not fire
  std::chrono::seconds locate_window{120};  ///< give up finding the kernel after this long
  PhysicalStore store;  ///< guest_write faults store through this (empty: they are refused)
};

struct monitor_state {
  MonitorConfig config;
  std::shared_ptr<const guest_kernel::GuestKernel> kernel;
  guest_kernel::LocateInput bsp_state;  ///< the BSP's LSTAR/CR3/CR4 that located it
  uint64_t next_query = 1;
  std::chrono::steady_clock::time_point query_sent{};
  bool query_pending = false;
  std::chrono::steady_clock::time_point next_query_at{};  ///< no query before (after a miss)
  unsigned locate_failures = 0;
  std::string last_problem;  ///< why the kernel is not located (yet)
  bool given_up = false;
  std::chrono::steady_clock::time_point next_cpu_refresh{};
  bool exit_kind_known = false;  ///< a first exit kind was read (the baseline)
  uint64_t exit_kind = 0;        ///< the last exit kind read
  bool error_frozen = false;     ///< an error exit already asked for its snapshot
  std::vector<std::optional<uint64_t>> watch_values;  ///< last value per watch (nullopt: none read yet)
  unsigned watch_freezes = 0;                         ///< snapshots the watches asked for
  std::vector<bool> watch_active;  ///< per watch: false for a scenario's watch op until its step starts
  std::vector<int32_t> tids;  ///< index = vCPU; 0 = not started
  caf::actor bsp;             ///< vCPU 0's actor: the sender of its vcpu_started
  std::vector<caf::actor> vcpus;   ///< index = vCPU: the senders of vcpu_started (who gets arm/disarm)
  std::optional<WatchPath> path;   ///< from when the kernel is located
  msg::monitor_report report;
  /// guest_write faults that came before the kernel was located, with who asked.
  std::vector<std::pair<fault_listener, msg::guest_write>> pending_writes;
  static constexpr const char* name = "monitor";
};

monitor_actor_t::behavior_type monitor_actor(monitor_actor_t::stateful_pointer<monitor_state> self,
                                             MonitorConfig config);

}  // namespace ktstr::actors
