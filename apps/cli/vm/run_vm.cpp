#include "apps/cli/vm/run_vm.hpp"

#include "apps/protocol/agent_stream.hpp"

#include <spdlog/spdlog.h>

#include <signal.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "actors/runtime_config.hpp"
#include "actors/unexpected.hpp"
#include "actors/vm.hpp"
#include "messages/guest_io.hpp"

namespace ktstr::cli {

namespace {

constexpr size_t kMaxRecordedErrors = 20;

std::atomic<bool> g_stop_signal{false};
void on_stop_signal(int) { g_stop_signal.store(true); }

/// While the VM runs, SIGINT/SIGTERM end it like a stop request (its result is still
/// written: an experiment's stop, or ^C, loses nothing); the old handlers come back after.
class StopOnSignal {
 public:
  explicit StopOnSignal(caf::actor vm) {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, &old_int_);
    ::sigaction(SIGTERM, &sa, &old_term_);
    watcher_ = std::thread([this, vm = std::move(vm)] {
      while (!done_.load()) {
        if (g_stop_signal.exchange(false)) {
          spdlog::warn("signal received: stopping the VM (its result is still written)");
          caf::anon_send(vm, msg::stop_atom::value);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
  }
  ~StopOnSignal() {
    done_.store(true);
    watcher_.join();
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
  }
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;

 private:
  struct sigaction old_int_ {}, old_term_ {};
  std::atomic<bool> done_{false};
  std::thread watcher_;
};

void record(std::vector<std::string>& list, std::string text) {
  if (list.size() < kMaxRecordedErrors) list.push_back(std::move(text));
}

// Long runs show where they are: the scheduler's state, the scenario's start, steps, end.
void log_scenario_progress(const protocol::AgentEvent& event, double at_s) {
  if (const auto* e = std::get_if<protocol::SchedulerEvent>(&event)) {
    spdlog::info("[{:.1f} s] scheduler {}{}{}", at_s, protocol::scheduler_state_name(e->state),
                 e->ops ? " (" + *e->ops + ")" : std::string(), e->reason ? ": " + *e->reason : std::string());
  } else if (const auto* e = std::get_if<protocol::ScenarioStarted>(&event)) {
    spdlog::info("[{:.1f} s] scenario {} started: {} workers", at_s, protocol::printable_excerpt(e->name), e->workers);
  } else if (const auto* e = std::get_if<protocol::StepEvent>(&event)) {
    spdlog::info("[{:.1f} s] step {} at {:.0f} ms{}", at_s, e->index, e->at_ms,
                 e->errors.empty() ? std::string() : " with " + std::to_string(e->errors.size()) + " error(s)");
  } else if (const auto* e = std::get_if<protocol::ScenarioDone>(&event)) {
    spdlog::info("[{:.1f} s] scenario done after {:.0f} ms", at_s, e->wall_ms);
  }
}

void on_event(RunObservation& obs, const msg::agent_line& line, protocol::AgentEvent& parsed,
              const std::function<void(uint32_t)>& step_started) {
  std::visit(
      [&](auto& event) {
        using T = std::decay_t<decltype(event)>;
        if constexpr (std::is_same_v<T, protocol::BootDone>) {
          if (!obs.boot_done) {
            obs.boot_done = event;
            obs.boot_done_at_s = line.at_s;
            spdlog::info("guest agent up after {:.2f} s (guest uptime {:.2f} s)", line.at_s, event.uptime_s);
          }
        } else if constexpr (std::is_same_v<T, protocol::KernelInfo>) {
          obs.kernel = event;
        } else if constexpr (std::is_same_v<T, protocol::TopologyReport>) {
          obs.topology = event;
        } else if constexpr (std::is_same_v<T, protocol::Heartbeat>) {
          if (obs.heartbeat_at_s.size() < 100000) obs.heartbeat_at_s.push_back(line.at_s);
        } else if constexpr (std::is_same_v<T, protocol::PowerOff>) {
          obs.agent_powered_off = true;
        } else if constexpr (std::is_same_v<T, protocol::AgentError>) {
          record(obs.agent_errors, event.message);
        } else {
          if constexpr (std::is_same_v<T, protocol::StepEvent>) step_started(event.index);
          log_scenario_progress(event, line.at_s);
          if (obs.scenario_events.size() < kMaxScenarioEvents) obs.scenario_events.emplace_back(event);
          else obs.scenario_events_truncated = true;
        }
      },
      parsed);
}

// Each line through the protocol's stream: parsed, and its seq checked against the last,
// so a line the console dropped or the guest lost shows as a protocol error.
void on_agent_line(RunObservation& obs, protocol::AgentStream& stream, const msg::agent_line& line,
                   const std::function<void(uint32_t)>& step_started) {
  for (auto& parsed : stream.line(line.line)) {
    if (auto* err = std::get_if<protocol::ProtocolError>(&parsed)) record(obs.protocol_errors, err->message);
    else on_event(obs, line, std::get<protocol::AgentEvent>(parsed), step_started);
  }
}

}  // namespace

RunObservation run_vm(const kvm::MachineConfig& machine, const VmRunPaths& paths, const VmRunLimits& limits) {
  RunObservation obs;
  protocol::AgentStream agent_stream;
  obs.perf_off_reason = limits.perf_off_reason;
  actors::keep_heap_mapped();
  caf::actor_system_config cfg;
  actors::configure_runtime(cfg);
  // Held by pointer: when a vCPU thread is stuck in KVM_RUN, the system's destructor
  // would wait for it forever, so it is then deliberately leaked and the caller
  // leaves with _exit after reporting.
  auto system = std::make_unique<caf::actor_system>(cfg);
  {
    caf::scoped_actor self{*system};
    actors::VmConfig vm_config;
    vm_config.machine = machine;
    vm_config.kernel_log = paths.kernel_log;
    vm_config.agent_log = paths.agent_log;
    vm_config.run_deadline = limits.run_deadline;
    vm_config.stall_timeout = limits.stall_timeout;
    vm_config.freeze_deadline = limits.freeze_deadline;
    vm_config.freeze_schedule = limits.freeze_schedule;
    vm_config.perf_period = limits.perf_period;
    vm_config.monitor_period = limits.monitor_period;
    vm_config.kernel_layout = limits.kernel_layout;
    vm_config.monitor_unavailable = limits.monitor_unavailable;
    vm_config.watches = limits.watches;
    vm_config.hardware_watchpoints = limits.hardware_watchpoints;
    vm_config.faults = limits.faults;
    vm_config.observer = caf::actor_cast<actors::run_observer>(self);
    auto vm = system->spawn(actors::vm_actor, std::move(vm_config));
    StopOnSignal stop_on_signal(caf::actor_cast<caf::actor>(vm));

    // The vm actor always answers within run + stop deadlines; the margin only guards
    // against a bug in it, so that the CLI never hangs.
    bool finished = false;
    self->receive_while([&] { return !finished; })(
        [&](msg::agent_line& line) {
          on_agent_line(obs, agent_stream, line, [&](uint32_t step) { self->send(vm, msg::scenario_step{step}); });
        },
        [&](msg::snapshot& snap) {
          spdlog::info("freeze {} ({}): {} vCPU(s) parked in {:.1f} ms{}", snap.id, snap.trigger, snap.vcpus.size(),
                       snap.latency_s * 1e3, snap.partial ? " (partial)" : "");
          obs.snapshots.push_back(std::move(snap));
        },
        [&](msg::run_finished& result) {
          obs.finished = std::move(result);
          finished = true;
        },
        actors::unexpected_in(&*self, "run"),
        caf::after(limits.run_deadline + std::chrono::seconds(60)) >> [&] {
          obs.finished.how = msg::run_end::vmm_error;
          obs.finished.detail = "the vm actor did not report within the run deadline";
          obs.finished.stuck_vcpus.push_back(UINT32_MAX);
          finished = true;
        });
  }
  if (!obs.finished.stuck_vcpus.empty()) (void)system.release();
  return obs;
}

}  // namespace ktstr::cli
