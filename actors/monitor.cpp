#include "actors/monitor.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <type_traits>

#include "actors/send_dynamic.hpp"
#include "actors/unexpected.hpp"
#include "kvm/guest_kernel/scx_names.hpp"
#include "kvm/hex.hpp"
#include "kvm/thread.hpp"

namespace ktstr::actors {

namespace {

using state_ptr = monitor_actor_t::stateful_pointer<monitor_state>;
using clock = std::chrono::steady_clock;

constexpr auto kQueryInterval = std::chrono::milliseconds(500);  ///< while the kernel is not found yet
constexpr auto kCpuRefresh = std::chrono::seconds(1);           ///< while CPUs are still coming online
constexpr unsigned kMaxLocateFailures = 5;
constexpr size_t kMaxExitEvents = 1000;
constexpr size_t kMaxWatchEvents = 10000;
constexpr unsigned kMaxWatchFreezes = 20;  ///< a word that changes all the time must not freeze the run to death

double seconds_since(clock::time_point start) { return std::chrono::duration<double>(clock::now() - start).count(); }

void settle_pending_writes(state_ptr self);

void give_up(state_ptr self, const std::string& why) {
  auto& s = self->state;
  s.given_up = true;
  s.report.unavailable = "monitor unavailable: " + why;
  spdlog::warn("{}", s.report.unavailable);
  if (s.config.view) s.config.view->set_unavailable(s.report.unavailable);
  settle_pending_writes(self);
}

void poll_exit_kind(state_ptr self);
void aim_slots(state_ptr self);

/// A guest_write fault: stored now on a located kernel, refused when the monitor has
/// given up, else kept until the kernel is located.
void on_guest_write(state_ptr self, const fault_listener& asker, const msg::guest_write& w) {
  auto& s = self->state;
  if (s.kernel) {
    auto outcome = write_kernel_word(*s.kernel, s.config.store, w, seconds_since(s.config.start));
    if (outcome.accepted)
      spdlog::info("monitor: fault {}: 0x{} -> 0x{} at {} + slide", w.index, kvm::to_hex(outcome.old_value),
                   kvm::to_hex(outcome.new_value), kvm::to_hex(w.link_address));
    else spdlog::warn("monitor: fault {}: {}", w.index, outcome.error);
    if (asker) self->send(asker, std::move(outcome));
  } else if (s.given_up) {
    msg::fault_outcome refused;
    refused.index = w.index;
    refused.error = s.report.unavailable.empty() ? "monitor unavailable" : s.report.unavailable;
    if (asker) self->send(asker, std::move(refused));
  } else {
    s.pending_writes.emplace_back(asker, w);
  }
}

/// Every write still waiting: now that the kernel is located, or the monitor gave up.
void settle_pending_writes(state_ptr self) {
  auto pending = std::move(self->state.pending_writes);
  self->state.pending_writes.clear();
  for (const auto& [asker, w] : pending) on_guest_write(self, asker, w);
}

void adopt(state_ptr self, std::shared_ptr<const guest_kernel::GuestKernel> kernel) {
  auto& s = self->state;
  const auto& at = kernel->located();
  const bool first = !s.kernel;
  auto& r = s.report;
  r.available = true;
  r.unavailable.clear();
  r.release = kernel->layout().release;
  r.banner = at.banner;
  r.slide = at.slide;
  r.page_offset_base = at.page_offset_base;
  r.five_level = at.la57;
  r.fields_unavailable.clear();
  for (const auto& [field, reason] : kernel->unavailable()) r.fields_unavailable.push_back({field, reason});
  if (first) {
    r.located_at_s = seconds_since(s.config.start);
    spdlog::info("monitor: guest kernel found at {:.2f} s: \"{}\" (KASLR slide 0x{}, {}-level paging, {} CPU(s) online)",
                 r.located_at_s, at.banner, kvm::to_hex(static_cast<uint64_t>(at.slide)), at.la57 ? 5 : 4,
                 at.cpus.size());
  } else if (at.cpus.size() != s.kernel->located().cpus.size()) {
    spdlog::debug("monitor: {} CPU(s) online", at.cpus.size());
  }
  s.kernel = kernel;
  if (s.config.view) s.config.view->set(std::move(kernel));
  if (first) {
    const bool exit_known = s.kernel->layout().scx_exit_kind_known();
    if (!exit_known) r.exit_watch = "not watched: no sched_ext exit kind in this kernel";
    else if (s.config.exit_poll.count() <= 0) r.exit_watch = "not watched (exit poll period 0)";
    else
      r.exit_watch = std::string(s.config.hardware_watchpoints ? "slot 0 hardware watchpoint, and " : "") +
                     "polling the exit kind every " + std::to_string(s.config.exit_poll.count()) + " ms";
    for (const auto& w : s.config.watches) {
      msg::watch_summary summary{w.slot, w.spec, w.symbol, w.link_address + static_cast<uint64_t>(at.slide), w.length,
                                 w.freeze, 0};
      summary.from_step = w.from_step ? static_cast<int32_t>(*w.from_step) : -1;
      summary.when = w.when ? w.when->text() : std::string();
      summary.active_at_s = s.watch_active[&w - s.config.watches.data()] ? r.located_at_s : -1;
      r.watches.push_back(std::move(summary));
    }
    s.watch_values.assign(s.config.watches.size(), std::nullopt);
    const bool anything = s.config.exit_poll.count() > 0 && (exit_known || !s.config.watches.empty());
    if (anything) {
      s.path.emplace(s.config.hardware_watchpoints, s.config.vcpus,
                     std::chrono::duration<double>(s.config.watch_grace).count(), s.config.hardware_off_reason);
      aim_slots(self);
    }
    if (s.config.exit_poll.count() > 0 && (exit_known || !s.config.watches.empty())) {
      r.exit_poll_ms = s.config.exit_poll.count();
      self->send(self, msg::exit_poll_atom::value);
    }
    settle_pending_writes(self);  // guest_write faults that came before the kernel was found
  }
}

/// Tells every vCPU to arm `slot` on target (or to disarm it), then kicks it.
void send_slot(state_ptr self, uint32_t vcpu, uint32_t slot, const std::optional<WatchTarget>& target) {
  auto& s = self->state;
  if (vcpu >= s.vcpus.size() || !s.vcpus[vcpu]) return;
  if (target) send_dynamic(self, s.vcpus[vcpu], msg::arm_watchpoint{slot, target->address, target->length, msg::watch_kind::write});
  else send_dynamic(self, s.vcpus[vcpu], msg::disarm_watchpoint{slot});
  if (s.config.kick) s.config.kick(vcpu);  // applied between two KVM_RUNs: now, not at the next exit
}

void send_slot(state_ptr self, uint32_t slot, const std::optional<WatchTarget>& target) {
  for (uint32_t v = 0; v < self->state.vcpus.size(); ++v) send_slot(self, v, slot, target);
}

/// Points each slot at its word: 0 where the exit kind lives now (6.16+: it moves with
/// scx_root, and there is none while no scheduler is attached), 1-3 the watched words.
void aim_slots(state_ptr self) {
  auto& s = self->state;
  if (!s.path || !s.path->hardware_active()) return;
  std::optional<WatchTarget> exit_kind;
  if (s.config.exit_poll.count() > 0 && s.kernel->layout().scx_exit_kind_known())
    if (const auto at = s.kernel->exit_kind_address()) exit_kind = WatchTarget{*at, 4};
  if (s.path->retarget(0, exit_kind)) send_slot(self, 0, exit_kind);
  const auto slide = static_cast<uint64_t>(s.kernel->located().slide);
  for (size_t i = 0; i < s.config.watches.size(); ++i) {
    const auto& w = s.config.watches[i];
    if (!s.watch_active[i]) continue;  // a scenario's watch op before its step
    const WatchTarget word{w.link_address + slide, w.length};
    if (s.path->retarget(w.slot, word)) send_slot(self, w.slot, word);
  }
}

/// The hardware path is given up (refused, or did not fire): say so once, disarm every slot.
void fall_back(state_ptr self, const std::string& line) {
  auto& s = self->state;
  spdlog::warn("monitor: {} every {} ms", line, s.config.exit_poll.count());
  for (uint32_t slot = 0; slot < kWatchSlots; ++slot)
    if (s.path->target(slot)) send_slot(self, slot, std::nullopt);
}

double poll_period_s(state_ptr self) { return std::chrono::duration<double>(self->state.config.exit_poll).count(); }

/// A hit on a value the poll already reported: the hit names the writer of that event.
template <class Event>
void name_writer(std::vector<Event>& events, const msg::watchpoint_hit& hit, double grace_s, uint32_t slot) {
  for (auto it = events.rbegin(); it != events.rend(); ++it) {
    if constexpr (std::is_same_v<Event, msg::watch_event>)
      if (it->slot != slot) continue;
    if (it->vcpu < 0 && hit.at_s - it->at_s <= grace_s) {
      it->vcpu = static_cast<int32_t>(hit.vcpu);
      it->rip = hit.rip;
    }
    return;
  }
}

/// One look at watched word i (by the poll, or for a hit on its slot): a change is an
/// event (and, if asked, a snapshot).
void look_at_watch(state_ptr self, size_t i, const msg::watchpoint_hit* hit) {
  auto& s = self->state;
  const auto& w = s.config.watches[i];
  if (!s.watch_active[i]) return;
  const auto value = s.kernel->read_kernel_value(w.link_address, w.length);
  if (!value.ok) return;
  auto& last = s.watch_values[i];
  if (last && *last == value.value) {
    if (hit) name_writer(s.report.watch_events, *hit, poll_period_s(self) * 2 + 0.1, w.slot);
    return;
  }
  if (last) {
    msg::watch_event e;
    e.slot = w.slot;
    e.at_s = hit ? hit->at_s : seconds_since(s.config.start);
    e.old_value = *last;
    e.new_value = value.value;
    e.via = hit ? "watchpoint" : "poll";
    if (hit) {
      e.vcpu = static_cast<int32_t>(hit->vcpu);
      e.rip = hit->rip;
    } else if (s.path) {
      s.path->on_polled_change(w.slot, e.at_s, poll_period_s(self));
    }
    ++s.report.watches[i].changes;
    if (w.when && !w.when->holds(value.value)) {  // counted, not an event
      last = value.value;
      return;
    }
    if (w.freeze && s.config.freezer && s.watch_freezes < kMaxWatchFreezes) {
      ++s.watch_freezes;
      e.froze = true;
      self->send(s.config.freezer, msg::freeze_request{"watch " + std::to_string(w.slot) + " " + w.symbol});
    }
    if (s.report.watch_events.size() < kMaxWatchEvents) s.report.watch_events.push_back(e);
  }
  last = value.value;
}

/// One look at the exit kind (by the poll, or for a slot 0 hit): a change is an event with
/// the exit info read at that moment; the first error asks for a snapshot.
void look_at_exit_kind(state_ptr self, const msg::watchpoint_hit* hit) {
  auto& s = self->state;
  if (!s.kernel->layout().scx_exit_kind_known()) return;
  const auto kind = s.kernel->read_exit_kind();
  if (!kind.ok) return;
  if (!s.exit_kind_known) {
    s.exit_kind_known = true;
    s.exit_kind = kind.value;
    return;
  }
  if (kind.value == s.exit_kind) {
    if (hit) name_writer(s.report.exit_events, *hit, poll_period_s(self) * 2 + 0.1, 0);
    return;
  }
  msg::scx_exit_event e;
  e.at_s = hit ? hit->at_s : seconds_since(s.config.start);
  e.from = s.exit_kind;
  e.to = kind.value;
  e.via = hit ? "watchpoint" : "poll";
  if (hit) {
    e.vcpu = static_cast<int32_t>(hit->vcpu);
    e.rip = hit->rip;
  } else if (s.path) {
    s.path->on_polled_change(0, e.at_s, poll_period_s(self));
  }
  if (kind.value != guest_kernel::kExitNone) e.info = s.kernel->read_exit_info();
  // An error, or a teardown whose exit info says an error was claimed between two looks.
  const uint64_t error_kind = guest_kernel::is_error_exit(kind.value) ? kind.value
                              : e.info.ok && guest_kernel::is_error_exit(e.info.kind) ? e.info.kind
                                                                                     : 0;
  if (error_kind && !s.error_frozen && s.config.freezer) {
    s.error_frozen = true;
    e.froze = true;
    self->send(s.config.freezer, msg::freeze_request{"scheduler error " + guest_kernel::exit_kind_name(error_kind)});
  }
  spdlog::info("[{:.2f} s] sched_ext exit kind {} -> {}{} (seen by {}{})", e.at_s, guest_kernel::exit_kind_name(e.from),
               guest_kernel::exit_kind_name(e.to), e.info.ok && !e.info.msg.empty() ? ": " + e.info.msg : "", e.via,
               hit ? fmt::format(" on vCPU {} at 0x{}", hit->vcpu, kvm::to_hex(hit->rip)) : "");
  s.exit_kind = kind.value;
  if (s.report.exit_events.size() < kMaxExitEvents) s.report.exit_events.push_back(std::move(e));
}

/// Every exit_poll: the exit kind and each watched word; then the slots are re-aimed
/// (6.16+ scx_root moves) and, past a change's grace with no hit, the hardware path given up.
void poll_exit_kind(state_ptr self) {
  auto& s = self->state;
  for (size_t i = 0; i < s.config.watches.size(); ++i) look_at_watch(self, i, nullptr);
  look_at_exit_kind(self, nullptr);
  if (!s.path) return;
  aim_slots(self);
  if (const auto line = s.path->check(seconds_since(s.config.start))) fall_back(self, *line);
}

void on_hit(state_ptr self, const msg::watchpoint_hit& hit) {
  auto& s = self->state;
  if (!s.kernel || !s.path || !s.path->on_hit(hit.slot, hit.at_s)) return;
  if (hit.slot == 0) {
    look_at_exit_kind(self, &hit);
    return;
  }
  for (size_t i = 0; i < s.config.watches.size(); ++i)
    if (s.config.watches[i].slot == hit.slot) look_at_watch(self, i, &hit);
}

/// Finds the kernel from the BSP's state; a failure is retried a few times (the guest may
/// be mid-boot), then the monitor gives up with the reason.
void locate(state_ptr self, const guest_kernel::LocateInput& in) {
  auto& s = self->state;
  try {
    auto kernel = std::make_shared<const guest_kernel::GuestKernel>(
        guest_kernel::GuestKernel::locate(*s.config.layout, s.config.memory, in));
    s.bsp_state = in;
    adopt(self, std::move(kernel));
  } catch (const std::exception& e) {
    s.last_problem = e.what();
    s.next_query_at = clock::now() + kQueryInterval;  // the guest may be mid-boot: look again a bit later
    spdlog::debug("monitor: locating the guest kernel: {}", s.last_problem);
    if (!s.kernel && ++s.locate_failures >= kMaxLocateFailures) give_up(self, s.last_problem);
  }
}

void on_cpu_state(state_ptr self, const msg::cpu_state& cs) {
  auto& s = self->state;
  if (!s.query_pending || cs.id + 1 != s.next_query) return;  // stale answer
  s.query_pending = false;
  if (s.kernel || s.given_up) return;
  if (!cs.ok) {
    s.last_problem = "cannot read vCPU 0's registers: " + cs.error;
    if (++s.locate_failures >= kMaxLocateFailures) give_up(self, s.last_problem);
    return;
  }
  if (cs.lstar == 0) {  // still in early boot: the kernel sets LSTAR in cpu_init
    s.last_problem = "the guest kernel had not set MSR_LSTAR (it was still booting)";
    s.next_query_at = clock::now() + kQueryInterval;
    return;
  }
  locate(self, {cs.lstar, cs.cr3, cs.cr4, s.config.vcpus});
}

void query_bsp(state_ptr self) {
  auto& s = self->state;
  if (s.query_pending && clock::now() - s.query_sent < kQueryInterval) return;
  if (clock::now() < s.next_query_at) return;
  if (!s.bsp) return;
  send_dynamic(self, s.bsp, msg::cpu_state_query{s.next_query++});
  if (s.config.kick) s.config.kick(0);  // a vCPU inside KVM_RUN sees its mailbox only after a kick
  s.query_pending = true;
  s.query_sent = clock::now();
}

void take_sample(state_ptr self) {
  auto& s = self->state;
  const auto began = clock::now();
  msg::monitor_sample sample;
  sample.at_s = seconds_since(s.config.start);
  auto state = read_guest_state(*s.kernel);
  sample.scx = std::move(state.scx);
  sample.cpus = std::move(state.cpus);
  sample.vcpu_run_ns.reserve(s.tids.size());
  for (int32_t tid : s.tids) sample.vcpu_run_ns.push_back(tid > 0 ? kvm::thread_run_ns(tid) : 0);
  s.report.sampling_s += std::chrono::duration<double>(clock::now() - began).count();
  if (s.report.samples.size() < s.config.max_samples) s.report.samples.push_back(std::move(sample));
  else ++s.report.samples_dropped;
}

void tick(state_ptr self) {
  auto& s = self->state;
  if (s.given_up) return;
  if (!s.kernel) {
    if (clock::now() - s.config.start > s.config.locate_window) {
      give_up(self, (s.last_problem.empty() ? std::string("the guest kernel was not found") : s.last_problem) +
                        " (gave up after " + std::to_string(s.config.locate_window.count()) + " s)");
      return;
    }
    query_bsp(self);
  } else {
    // CPUs come online after the BSP set LSTAR: look again until all are there.
    if (s.kernel->located().cpus.size() < s.config.vcpus && clock::now() >= s.next_cpu_refresh &&
        clock::now() - s.config.start < s.config.locate_window) {
      s.next_cpu_refresh = clock::now() + kCpuRefresh;
      locate(self, s.bsp_state);
    }
    take_sample(self);
  }
  const auto next = s.kernel ? s.config.period : std::min<std::chrono::milliseconds>(s.config.period, kQueryInterval);
  self->delayed_send(self, next, msg::sample_atom::value);
}

}  // namespace

monitor_actor_t::behavior_type monitor_actor(monitor_actor_t::stateful_pointer<monitor_state> self,
                                             MonitorConfig config) {
  self->set_default_handler(log_unexpected);
  // An error sent to it (a stand-in or a vCPU that could not take a message) is logged, not
  // fatal: CAF's default would end the monitor, and with it every later sample.
  self->set_error_handler([=](caf::error& err) {
    spdlog::warn("monitor: error message {} ignored", self->system().render(err));
  });
  auto& s = self->state;
  s.config = std::move(config);
  if (s.config.period <= std::chrono::milliseconds(0)) s.config.period = std::chrono::milliseconds(100);
  s.report.period_ms = s.config.period.count();
  s.tids.assign(s.config.vcpus, 0);
  for (const auto& w : s.config.watches) s.watch_active.push_back(!w.from_step);
  if (!s.config.layout) {
    s.given_up = true;
    s.report.unavailable = s.config.unavailable.empty() ? "monitor unavailable: no kernel layout" : s.config.unavailable;
    if (s.config.view) s.config.view->set_unavailable(s.report.unavailable);
  } else {
    self->send(self, msg::sample_atom::value);
  }
  return {
      [=](const msg::vcpu_started& started) {
        auto& st = self->state;
        if (started.vcpu < st.tids.size()) st.tids[started.vcpu] = started.tid;
        auto sender = caf::actor_cast<caf::actor>(self->current_sender());
        if (started.vcpu == 0) st.bsp = sender;
        if (started.vcpu < st.config.vcpus) {
          if (st.vcpus.size() <= started.vcpu) st.vcpus.resize(started.vcpu + 1);
          st.vcpus[started.vcpu] = sender;
          // Started after the slots were aimed: arm what the others have.
          if (st.path && st.path->hardware_active())
            for (uint32_t slot = 0; slot < kWatchSlots; ++slot)
              if (const auto target = st.path->target(slot)) send_slot(self, started.vcpu, slot, target);
        }
      },
      [=](const msg::watchpoint_hit& hit) { on_hit(self, hit); },
      // A scenario's watch ops start with their step: from now on their words are watched
      // (the first look is the baseline, then armed where the hardware path is on).
      [=](const msg::scenario_step& step) {
        auto& st = self->state;
        for (size_t i = 0; i < st.config.watches.size(); ++i) {
          const auto& w = st.config.watches[i];
          if (st.watch_active[i] || !w.from_step || *w.from_step > step.index) continue;
          st.watch_active[i] = true;
          if (i < st.watch_values.size()) st.watch_values[i].reset();
          if (i < st.report.watches.size()) st.report.watches[i].active_at_s = seconds_since(st.config.start);
          spdlog::info("monitor: watching {} from step {}", w.spec, step.index);
        }
        if (st.kernel) aim_slots(self);
      },
      [=](const msg::guest_debug_result& r) {
        auto& st = self->state;
        if (!st.path) return;
        if (const auto line = st.path->on_result(r.vcpu, r.slot, r.ok, r.error, seconds_since(st.config.start)))
          fall_back(self, *line);
      },
      [=](msg::sample_atom) { tick(self); },
      [=](msg::exit_poll_atom) {
        auto& st = self->state;
        if (!st.kernel || st.given_up) return;
        poll_exit_kind(self);
        self->delayed_send(self, st.config.exit_poll, msg::exit_poll_atom::value);
      },
      [=](const msg::cpu_state& cs) { on_cpu_state(self, cs); },
      [=](const msg::guest_write& w) {
        on_guest_write(self, caf::actor_cast<fault_listener>(self->current_sender()), w);
      },
      // A last sample first (the guest has usually stopped by then: its final state).
      [=](msg::monitor_report_atom) -> msg::monitor_report {
        auto& st = self->state;
        if (st.kernel && !st.given_up) {
          take_sample(self);
          if (st.report.exit_poll_ms > 0) poll_exit_kind(self);  // the teardown's last write, if it came since
        }
        if (st.path) {
          st.report.watch_path = st.path->path();
          st.report.watch_path_detail = st.path->detail(static_cast<double>(st.config.exit_poll.count()));
          st.report.watchpoint_hits = st.path->hits();
        }
        if (!st.kernel && st.report.unavailable.empty())
          st.report.unavailable = "monitor unavailable: " + (st.last_problem.empty()
                                                                 ? std::string("the guest kernel was not found yet")
                                                                 : st.last_problem);
        return st.report;
      },
  };
}

}  // namespace ktstr::actors
