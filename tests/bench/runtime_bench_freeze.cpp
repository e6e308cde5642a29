// Part 2: freeze-all latency through the real vm actor and freeze coordinator.
// The bench is the vm actor's observer: it waits for the agent's boot_done, sends M
// freeze_request one after the other (each after the previous snapshot, plus a gap so
// the vCPUs are back idle in KVM_RUN), reads snapshot.latency_s (the coordinator's
// "freeze sent to last parked"), then stops the VM.
#include <spdlog/spdlog.h>

#include <thread>

#include "actors/vm.hpp"
#include "messages/messages.hpp"
#include "tests/bench/runtime_bench_common.hpp"

namespace ktstr::bench {

FreezeResult measure_freeze(caf::actor_system& system, const Options& o, uint32_t vcpus,
                            const std::vector<uint8_t>& initrd) {
  FreezeResult result;
  result.vcpus = vcpus;
  caf::scoped_actor self{system};
  actors::VmConfig cfg;
  cfg.machine = guest_config(o, vcpus, initrd);
  const auto dir = o.out / ("freeze-" + std::to_string(vcpus));
  std::filesystem::create_directories(dir);
  cfg.kernel_log = dir / "console.log";
  cfg.agent_log = dir / "agent.log";
  cfg.run_deadline = std::chrono::seconds(3600);  // the bench ends the VM itself
  cfg.freeze_deadline = std::chrono::seconds(10);
  // No sampler: it is not what is measured, and under the emulated host its counter
  // reads (an IPI to a CPU in guest mode) wedged the host during a guest's AP bring-up.
  cfg.perf_period = std::chrono::milliseconds(0);
  cfg.observer = caf::actor_cast<actors::run_observer>(self);
  auto vm = system.spawn(actors::vm_actor, std::move(cfg));

  bool up = false, finished = false, reported = false;
  msg::run_finished end;
  const auto boot_start = std::chrono::steady_clock::now();
  auto on_finished = [&](msg::run_finished& f) {
    finished = reported = true;
    end = std::move(f);
  };
  while (!up && !finished) {
    self->receive([&](msg::agent_line& l) { up = l.line.find("boot_done") != std::string::npos; }, on_finished,
                  [](msg::snapshot&) {},
                  caf::after(std::chrono::seconds(o.boot_timeout_s)) >> [&] { finished = true; });
  }
  if (!up) {
    result.error = reported ? std::string("guest ended before the agent: ") + msg::to_string(end.how) + " " + end.detail
                            : "agent not up within " + std::to_string(o.boot_timeout_s) + " s";
  } else {
    spdlog::info("freeze guest ({} vCPUs) up after {:.1f} s", vcpus, us_since(boot_start) / 1e6);
  }

  for (int i = 0; up && !finished && i < o.freezes && result.error.empty(); ++i) {
    // After a thaw every vCPU must be back in KVM_RUN before the next freeze starts.
    std::this_thread::sleep_for(std::chrono::milliseconds(std::max(o.gap_ms, 20)));
    self->send(vm, msg::freeze_request{"bench"});
    bool got = false;
    while (!got && result.error.empty())
      self->receive(
          [&](msg::snapshot& s) {
            got = true;
            if (s.partial) ++result.partial;
            else result.latency_us.push_back(s.latency_s * 1e6);
          },
          [](msg::agent_line&) {},
          [&](msg::run_finished& f) {
            on_finished(f);
            result.error = std::string("guest ended during the freezes: ") + msg::to_string(end.how) + " " + end.detail;
          },
          caf::after(std::chrono::seconds(30)) >> [&] { result.error = "no snapshot within 30 s"; });
  }

  if (!finished) self->send(vm, msg::stop_atom::value);
  while (!finished)
    self->receive(on_finished, [](msg::agent_line&) {}, [](msg::snapshot&) {},
                  caf::after(std::chrono::seconds(30)) >> [&] {
                    finished = true;
                    end.stuck_vcpus.push_back(UINT32_MAX);
                  });
  if (!end.stuck_vcpus.empty() && result.error.empty()) result.error = "vCPUs stuck at stop";
  return result;
}

}  // namespace ktstr::bench
