#include "actors/vm.hpp"

#include <spdlog/spdlog.h>

#include "actors/console.hpp"
#include "actors/freeze_coordinator.hpp"
#include "actors/monitor.hpp"
#include "actors/perf_sampler.hpp"
#include "actors/send_dynamic.hpp"
#include "actors/unexpected.hpp"
#include "actors/vcpu.hpp"
#include "actors/watchdog.hpp"
#include "apps/protocol/guest_paths.hpp"
#include "kvm/error.hpp"
#include "kvm/hex.hpp"

namespace ktstr::actors {

namespace {

using state_ptr = vm_actor_t::stateful_pointer<vm_state>;
constexpr auto kRekickPeriod = std::chrono::milliseconds(10);

double elapsed_s(const vm_state& s) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - s.start).count();
}

/// Freeze ids of faults: far from the coordinator's (1, 2, 3, ...), so neither thaws the other.
constexpr uint64_t kFaultFreezeBase = 1ull << 62;

std::chrono::milliseconds ms(double seconds) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::duration<double>(seconds));
}

/// Schedules every fault at its time from VM start.
void schedule_faults(state_ptr self) {
  auto& s = self->state;
  for (size_t i = 0; i < s.config.faults.size(); ++i)
    self->delayed_send(self, ms(s.config.faults[i].at_s), msg::fault_step{i, false, 0});
}

/// A message to a vCPU, and the kick that makes it look.
template <class Message>
void tell_vcpu(state_ptr self, uint32_t vcpu, Message m) {
  auto& s = self->state;
  send_dynamic(self, s.vcpus[vcpu], std::move(m));
  s.kicks[vcpu]->kick();
}

/// vcpu_stall and each pause of a vcpu_jitter: that vCPU alone parks (as in a freeze)
/// until the step's end thaws it. A jitter's next pause starts `period` after the
/// planned start of this one, while that is inside its window.
void stall_step(state_ptr self, const msg::fault_step& step) {
  auto& s = self->state;
  auto& f = s.config.faults[step.index];
  const uint64_t id = kFaultFreezeBase + step.index;
  const bool jitter = f.kind == "vcpu_jitter";
  if (!step.end) {
    tell_vcpu(self, f.vcpu, msg::freeze{id});
    const double now = elapsed_s(s);
    if (step.cycle == 0) f.applied_at_s = now;
    ++f.pauses;
    if (!jitter) spdlog::info("[{:.2f} s] fault {}: vCPU {} stalled for {:.1f} s", now, f.spec, f.vcpu, f.seconds);
    else if (step.cycle == 0) spdlog::info("[{:.2f} s] fault {}: vCPU {} paused {} ms every {} ms for {:.1f} s", now, f.spec,
                                           f.vcpu, f.pause_ms, f.period_ms, f.seconds);
    self->delayed_send(self, jitter ? std::chrono::milliseconds(f.pause_ms) : ms(f.seconds),
                       msg::fault_step{step.index, true, step.cycle});
    return;
  }
  send_dynamic(self, s.vcpus[f.vcpu], msg::thaw{id});  // parked in receive(): no kick needed
  f.ended_at_s = elapsed_s(s);
  if (jitter) {
    const double next = f.at_s + (step.cycle + 1) * (f.period_ms / 1000.0);
    if (next < f.at_s + f.seconds) {
      self->delayed_send(self, ms(std::max(0.0, next - f.ended_at_s)), msg::fault_step{step.index, false, step.cycle + 1});
      return;
    }
    spdlog::info("[{:.2f} s] fault {}: vCPU {} runs on after {} pause(s)", f.ended_at_s, f.spec, f.vcpu, f.pauses);
    return;
  }
  spdlog::info("[{:.2f} s] fault {}: vCPU {} runs again", f.ended_at_s, f.spec, f.vcpu);
}

/// A fault's time has come: the message to whoever carries it out (docs/experiments.md).
void fault_step(state_ptr self, const msg::fault_step& step) {
  auto& s = self->state;
  if (step.index >= s.config.faults.size() || s.end.decided()) return;
  auto& f = s.config.faults[step.index];
  if (f.kind == "guest_write") {
    if (!s.monitor) {
      f.error = "no monitor in this run (--monitor-period 0)";
      return;
    }
    spdlog::info("[{:.2f} s] fault {}: asking the monitor to write 0x{} ({} byte(s))", elapsed_s(s), f.spec,
                 kvm::to_hex(f.value), f.length);
    self->send(s.monitor, msg::guest_write{step.index, f.link_address, f.length, f.value});
    return;
  }
  if (f.vcpu >= s.vcpus.size() || s.exited[f.vcpu]) return;
  if (f.kind == "kick_loss") tell_vcpu(self, f.vcpu, msg::drop_kicks{step.index, f.count});
  else if (f.kind == "nmi") tell_vcpu(self, f.vcpu, msg::inject_nmi{step.index});
  else stall_step(self, step);
}

/// What a vCPU or the monitor says a fault did.
void on_fault_outcome(vm_state& s, const msg::fault_outcome& o) {
  if (o.index >= s.config.faults.size()) return;
  auto& f = s.config.faults[o.index];
  f.applied_at_s = o.applied_at_s;
  f.ended_at_s = o.ended_at_s;
  f.dropped = o.dropped;
  f.accepted = o.accepted;
  f.old_value = o.old_value;
  f.new_value = o.new_value;
  f.error = o.error;
  if (f.kind == "guest_write" && o.accepted)
    spdlog::info("[{:.2f} s] fault {}: {} was 0x{}, now 0x{}", o.applied_at_s, f.spec, f.symbol, kvm::to_hex(o.old_value),
                 kvm::to_hex(o.new_value));
  else if (f.kind == "kick_loss")
    spdlog::info("fault {}: {} kick(s) of vCPU {} dropped{}", f.spec, o.dropped, f.vcpu,
                 o.ended_at_s >= 0 ? fmt::format(", the last at {:.2f} s", o.ended_at_s) : std::string());
  else if (!o.error.empty())
    spdlog::warn("fault {}: {}", f.spec, o.error);
}

void finish(state_ptr self) {
  auto& s = self->state;
  s.result.elapsed_s = elapsed_s(s);
  s.result.faults = s.config.faults;
  for (size_t i = 0; i < s.exited.size(); ++i)
    if (!s.exited[i]) s.result.stuck_vcpus.push_back(static_cast<uint32_t>(i));
  if (s.machine) {  // partial lines still in the UARTs belong in the logs
    s.machine->com1().flush();
    s.machine->com2().flush();
  }
  auto done = [self](std::vector<std::string> tail) {
    auto& st = self->state;
    st.result.how = st.end.end().how;
    st.result.detail = st.end.end().detail;
    st.result.console_tail = std::move(tail);
    self->send(st.config.observer, std::move(st.result));
    for (const auto& helper : {caf::actor_cast<caf::actor>(st.console), caf::actor_cast<caf::actor>(st.watchdog),
                               caf::actor_cast<caf::actor>(st.freeze_coordinator),
                               caf::actor_cast<caf::actor>(st.perf_sampler), caf::actor_cast<caf::actor>(st.monitor)})
      if (helper) self->send_exit(helper, caf::exit_reason::user_shutdown);
    self->quit();
  };
  auto tail = [self, done] {
    auto& st = self->state;
    if (!st.console) return done({});
    self->request(st.console, std::chrono::seconds(5), msg::tail_atom::value)
        .then([done](msg::console_tail& t) { done(std::move(t.lines)); }, [done](caf::error&) { done({}); });
  };
  // The monitor's timeline, then the perf timeline (it takes a last sample), then the console tail.
  auto perf = [self, tail] {
    auto& st = self->state;
    if (!st.perf_sampler) return tail();
    self->request(st.perf_sampler, std::chrono::seconds(5), msg::perf_report_atom::value)
        .then([self, tail](msg::perf_report& report) {
                self->state.result.perf = std::move(report);
                tail();
              },
              [tail](caf::error&) { tail(); });
  };
  if (!s.monitor) return perf();
  self->request(s.monitor, std::chrono::seconds(5), msg::monitor_report_atom::value)
      .then([self, perf](msg::monitor_report& report) {
              self->state.result.monitor = std::move(report);
              perf();
            },
            [self, perf](caf::error& e) {
              msg::monitor_report none;
              none.unavailable = "monitor unavailable: no report (" + to_string(e) + ")";
              self->state.result.monitor = std::move(none);
              perf();
            });
}

void kick_all(vm_state& s) {
  for (size_t i = 0; i < s.kicks.size(); ++i)
    if (!s.exited[i]) s.kicks[i]->kick();
}

/// Stop message and kick to every vCPU, re-kicked until all have left KVM_RUN.
void stop_vcpus(state_ptr self) {
  auto& s = self->state;
  s.stop_started = std::chrono::steady_clock::now();
  if (s.exited_count == s.vcpus.size()) return finish(self);
  for (auto& v : s.vcpus) send_dynamic(self, v, msg::stop_atom::value);
  kick_all(s);
  self->delayed_send(self, kRekickPeriod, msg::rekick_atom::value);
}

/// Every vCPU's state, the faulting one first (its own capture), then the final freeze's
/// by index; the vCPUs with neither are missing.
void record_evidence(vm_state& s, const msg::snapshot* snap) {
  auto& r = s.result;
  std::vector<bool> have(s.vcpus.size(), false);
  if (s.faulting && s.faulting->vcpu < have.size()) {
    have[s.faulting->vcpu] = true;
    r.vcpu_states.push_back(std::move(*s.faulting));
  }
  if (snap)
    for (const auto& p : snap->vcpus)
      if (p.vcpu < have.size() && !have[p.vcpu]) {
        have[p.vcpu] = true;
        r.vcpu_states.push_back(p);
      }
  for (uint32_t i = 0; i < have.size(); ++i)
    if (!have[i]) r.vcpu_states_missing.push_back(i);
  spdlog::info("vm: state of {} vCPU(s) recorded before the stop{}", r.vcpu_states.size(),
               r.vcpu_states_missing.empty() ? std::string() : fmt::format(", {} missing", r.vcpu_states_missing.size()));
}

/// Freeze first, then stop: asks the freeze coordinator for a final freeze of the vCPUs
/// still in their loop. False when there is nothing to freeze (the evidence is recorded).
bool request_evidence(state_ptr self) {
  auto& s = self->state;
  std::vector<uint32_t> skip;
  for (uint32_t i = 0; i < s.vcpus.size(); ++i)
    if (s.exited[i] || static_cast<int32_t>(i) == s.result.faulting_vcpu) skip.push_back(i);
  if (!s.freeze_coordinator || skip.size() == s.vcpus.size()) {
    record_evidence(s, nullptr);
    return false;
  }
  s.collecting_evidence = true;
  msg::freeze_request request{std::string("vm end: ") + msg::to_string(s.end.end().how), true, std::move(skip),
                              static_cast<uint32_t>(s.config.evidence_deadline.count())};
  self->send(s.freeze_coordinator, std::move(request));
  // The coordinator answers by its deadline; this only guards against it not answering.
  self->delayed_send(self, s.config.evidence_deadline + std::chrono::seconds(1), msg::evidence_atom::value);
  return true;
}

/// The final freeze's snapshot (or none: the guard fired): record, then stop.
void on_evidence(state_ptr self, const msg::snapshot* snap) {
  auto& s = self->state;
  if (!s.collecting_evidence) return;
  s.collecting_evidence = false;
  record_evidence(s, snap);
  stop_vcpus(self);
}

/// Ends the VM once: the first reason to stop is the one reported. A death or hang is
/// frozen first (request_evidence), then stopped.
void begin_stop(state_ptr self, VmEnd end) {
  auto& s = self->state;
  if (!s.end.decide(std::move(end))) return;
  spdlog::debug("vm: stopping ({}: {})", msg::to_string(s.end.end().how), s.end.end().detail);
  if (wants_vcpu_evidence(s.end.end().how) && request_evidence(self)) return;
  stop_vcpus(self);
}

/// A vCPU whose exit ends the guest brings its own state; kept when this is the end's reason.
void note_faulting(vm_state& s, uint32_t vcpu, std::optional<msg::vcpu_registers>& state) {
  if (s.end.decided()) return;
  s.result.faulting_vcpu = static_cast<int32_t>(vcpu);
  if (state) s.faulting = msg::parked{0, vcpu, std::move(*state)};
}

void on_vcpu_gone(state_ptr self, uint32_t vcpu) {
  auto& s = self->state;
  if (vcpu >= s.exited.size() || s.exited[vcpu]) return;
  s.exited[vcpu] = true;
  ++s.exited_count;
  if (s.exited_count == s.vcpus.size()) {
    if (!s.end.decided()) begin_stop(self, end_for_all_vcpus_gone());
    else if (s.collecting_evidence) on_evidence(self, nullptr);  // nobody is left to park
    else finish(self);
  }
}

void spawn_freeze_coordinator(state_ptr self) {
  auto& s = self->state;
  FreezeCoordinatorConfig fc;
  fc.vcpus = s.vcpus;
  fc.kick = [kicks = s.kicks](uint32_t i) { kicks.at(i)->kick(); };
  auto saved = std::make_shared<kvm_clock_data>();
  fc.hold_clock = [machine = s.machine, saved] { *saved = machine->vm().clock(); };
  fc.release_clock = [machine = s.machine, saved] { machine->vm().set_clock(*saved); };
  fc.deadline = s.config.freeze_deadline;
  fc.observer = s.config.observer;
  fc.final_listener = caf::actor_cast<final_snapshot_listener>(self);
  fc.watchdog = s.watchdog;
  fc.schedule = s.config.freeze_schedule;
  fc.start = s.start;
  if (s.guest_view) fc.read_guest_state = [view = s.guest_view] { return view->read(); };
  s.freeze_coordinator = self->spawn(freeze_coordinator_actor, std::move(fc));
}

void spawn_monitor(state_ptr self, uint32_t vcpus) {
  auto& s = self->state;
  s.guest_view = std::make_shared<GuestView>();
  MonitorConfig mc;
  mc.period = s.config.monitor_period;
  mc.start = s.start;
  mc.layout = s.config.kernel_layout;
  mc.unavailable = s.config.monitor_unavailable;
  mc.memory = guest_kernel::physical_memory_of(s.machine->memory(), s.machine);
  mc.kick = [kicks = s.kicks](uint32_t vcpu) {
    if (vcpu < kicks.size()) kicks[vcpu]->kick();
  };
  mc.hardware_watchpoints = s.config.hardware_watchpoints;
  mc.hardware_off_reason = "hardware watchpoints off (--hardware-watchpoints off)";
  mc.vcpus = vcpus;
  mc.view = s.guest_view;
  mc.freezer = caf::actor_cast<freeze_requester>(self);  // forwarded to the freeze coordinator
  mc.watches = s.config.watches;
  mc.store = [machine = s.machine](uint64_t gpa, uint64_t value, uint32_t size) {
    return machine->memory().store(gpa, value, size);
  };
  s.monitor = self->spawn(monitor_actor, std::move(mc));
}

bool start_machine(state_ptr self) {
  auto& s = self->state;
  try {
    auto console = s.console;
    auto sink = [console](uint8_t port) {
      return [console, port](std::string_view bytes) {
        caf::anon_send(console, msg::console_output{port, std::string(bytes)});
      };
    };
    kvm::install_kick_handler();
    s.machine = std::make_shared<kvm::Machine>(s.config.machine, sink(1), sink(2));
  } catch (const kvm::Error& e) {
    s.end.decide(end_for_start_failure(e.kind() == kvm::ErrorKind::no_kvm, e.what()));
    return false;
  } catch (const std::exception& e) {
    s.end.decide(end_for_start_failure(false, e.what()));
    return false;
  }
  if (s.config.perf_period.count() > 0) {
    PerfSamplerConfig perf;
    perf.period = s.config.perf_period;
    perf.start = s.start;
    s.perf_sampler = self->spawn(perf_sampler_actor, perf);
  }
  auto vcpus = s.machine->take_vcpus();
  s.exited.assign(vcpus.size(), false);
  for (size_t i = 0; i < vcpus.size(); ++i) s.kicks.push_back(std::make_shared<kvm::VcpuKick>());
  if (s.config.monitor_period.count() > 0) spawn_monitor(self, static_cast<uint32_t>(vcpus.size()));
  for (size_t i = 0; i < vcpus.size(); ++i) {
    std::vector<vcpu_start_listener> observers;
    if (s.perf_sampler) observers.push_back(s.perf_sampler);
    if (s.monitor) observers.push_back(s.monitor);  // learns each thread and the BSP's actor
    // The monitor arms the watchpoints and hears their hits.
    auto actor = self->spawn(vcpu_actor, VcpuConfig{s.machine, std::shared_ptr<kvm::Vcpu>(std::move(vcpus[i])),
                                                    s.kicks[i], caf::actor_cast<vm_actor_t>(self), observers,
                                                    watchpoint_listener{s.monitor}, s.start});
    self->monitor(actor);
    s.vcpus.push_back(actor);
  }
  spawn_freeze_coordinator(self);
  return true;
}

}  // namespace

vm_actor_t::behavior_type vm_actor(vm_actor_t::stateful_pointer<vm_state> self, VmConfig config) {
  self->set_default_handler(log_unexpected);
  auto& s = self->state;
  s.config = std::move(config);
  s.start = std::chrono::steady_clock::now();
  WatchdogConfig wd;
  wd.run_deadline = s.config.run_deadline;
  wd.hard_grace = s.config.hard_grace;
  wd.stall_timeout = s.config.stall_timeout;
  wd.vm = caf::actor_cast<vm_actor_t>(self);
  wd.start = s.start;
  s.watchdog = self->spawn(watchdog_actor, wd);
  s.console = self->spawn(console_actor, ConsoleConfig{s.config.kernel_log, s.config.agent_log, s.config.observer,
                                                       caf::actor_cast<vm_actor_t>(self), s.watchdog, s.start});
  // Without a machine the end is decided already: every handler below then has nothing to do.
  if (!start_machine(self)) finish(self);
  else schedule_faults(self);

  // A vcpu actor that dies without saying goodbye ends the run too.
  self->set_down_handler([self](caf::down_msg& down) {
    auto& st = self->state;
    for (size_t i = 0; i < st.vcpus.size(); ++i) {
      if (st.vcpus[i].address() != down.source || st.exited[i]) continue;
      std::optional<msg::vcpu_registers> none;
      note_faulting(st, static_cast<uint32_t>(i), none);  // gone: not asked to park
      begin_stop(self, end_for_vcpu_death(static_cast<uint32_t>(i), to_string(down.reason)));
      on_vcpu_gone(self, static_cast<uint32_t>(i));
    }
  });

  return {
      [=](msg::guest_stopped& g) {
        if (g.how == msg::guest_stop::shutdown) note_faulting(self->state, g.vcpu, g.state);
        begin_stop(self, end_for(g));
      },
      [=](msg::vcpu_failed& f) {
        note_faulting(self->state, f.vcpu, f.state);
        begin_stop(self, end_for(f));
      },
      [=](msg::kernel_panic& p) {
        auto end = end_for(p);
        self->state.result.panic_lines = std::move(p.lines);
        begin_stop(self, std::move(end));
      },
      [=](msg::vcpu_exited& e) { on_vcpu_gone(self, e.vcpu); },
      // Watchdog, soft stage: ask the agent to wrap up and power off.
      [=](msg::soft_atom) {
        auto& st = self->state;
        spdlog::info("run deadline of {} s reached: asking the guest agent to finish", st.config.run_deadline.count() / 1000);
        if (st.machine) st.machine->com2().enqueue_input(std::string(protocol::kStopCommand) + "\n");
      },
      [=](msg::hard_atom) {
        auto& st = self->state;
        begin_stop(self, end_for_deadline(st.config.run_deadline, st.config.hard_grace));
      },
      [=](msg::stall& stall) { begin_stop(self, end_for(stall)); },
      [=](msg::freeze_request& r) {
        if (self->state.freeze_coordinator) self->send(self->state.freeze_coordinator, std::move(r));
      },
      [=](msg::stop_atom) { begin_stop(self, end_for_stop_request()); },
      [=](const msg::fault_step& step) { fault_step(self, step); },
      [=](const msg::fault_outcome& o) { on_fault_outcome(self->state, o); },
      [=](const msg::parked&) {},  // a vCPU stalled by a fault: parked as told
      [=](msg::scenario_step& step) {  // the monitor watches a scenario's watch ops from their step on
        if (self->state.monitor) self->send(self->state.monitor, step);
      },
      [=](msg::snapshot& snap) { on_evidence(self, &snap); },  // the final freeze's
      [=](msg::evidence_atom) { on_evidence(self, nullptr); },
      [=](msg::rekick_atom) {
        auto& st = self->state;
        if (st.exited_count == st.vcpus.size()) return;
        if (std::chrono::steady_clock::now() - st.stop_started > st.config.stop_deadline) {
          spdlog::error("vm: vCPUs did not leave KVM_RUN within {} ms", st.config.stop_deadline.count());
          return finish(self);
        }
        kick_all(st);
        self->delayed_send(self, kRekickPeriod, msg::rekick_atom::value);
      },
  };
}

}  // namespace ktstr::actors
