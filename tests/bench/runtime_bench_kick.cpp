// Part 1: interrupting one idle vCPU, raw native kick vs the actor path.
//
// The bench runs the real vcpu actors itself (not through the vm actor) so that it holds
// their VcpuKick handles: the raw kick and the actor path then act on the same vCPU
// thread of the same guest, and samples are interleaved so that host contention hits
// all three series alike.
//   raw:     kick_until_out() (blocks until the vCPU thread left KVM_RUN); raw_poll:
//            request() -> yield until served() reaches that generation.
//   ping:    send (ping, seq) + kick -> blocking receive of (pong, seq): the cheapest
//            message the vcpu actor's drain loop answers.
//   one way: both kicks also timed to their far end on the vCPU thread: raw to its
//            leaving KVM_RUN, ping to the handler (pong carries the time).
//            The round trip adds a thread wake-up on the way back, a plain condition
//            variable for raw, a CAF mailbox for ping.
//   freeze1: send freeze + kick -> parked (complete pending I/O, register capture),
//            then thaw: the freeze protocol for one vCPU without the coordinator.
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "actors/vcpu.hpp"
#include "kvm/kick.hpp"
#include "messages/messages.hpp"
#include "tests/bench/runtime_bench_common.hpp"

namespace ktstr::bench {

namespace {

using clock = std::chrono::steady_clock;

/// Watches COM2 for the agent's boot_done line (sinks run on vCPU threads).
struct AgentWatch {
  std::mutex mu;
  std::string tail;
  std::atomic<bool> up{false};
  void feed(std::string_view bytes) {
    std::lock_guard lock(mu);
    tail.append(bytes);
    if (tail.find("boot_done") != std::string::npos) up = true;
    if (tail.size() > 8192) tail.erase(0, tail.size() - 4096);
  }
};

/// Idle vCPUs spend nearly all their time in KVM_RUN (HLT is handled in the kernel);
/// waiting for in_guest() makes each sample start from there.
bool wait_in_guest(const kvm::VcpuKick& kick) {
  const auto end = clock::now() + std::chrono::seconds(2);
  while (!kick.in_guest())
    if (clock::now() > end) return false;
    else std::this_thread::sleep_for(std::chrono::microseconds(50));
  return true;
}

}  // namespace

KickResult measure_kick(caf::actor_system& system, const Options& o, const std::vector<uint8_t>& initrd) {
  KickResult result;
  const uint32_t n = std::max<uint32_t>(2, o.vcpu + 1);
  auto watch = std::make_shared<AgentWatch>();
  kvm::install_kick_handler();
  auto machine = std::make_shared<kvm::Machine>(
      guest_config(o, n, initrd), [](std::string_view) {}, [watch](std::string_view b) { watch->feed(b); });

  caf::scoped_actor supervisor{system};  // stands in for the vm actor: vcpu_exited etc.
  std::vector<caf::actor> vcpus;
  std::vector<std::shared_ptr<kvm::VcpuKick>> kicks;
  for (auto& v : machine->take_vcpus()) {
    kicks.push_back(std::make_shared<kvm::VcpuKick>());
    vcpus.push_back(system.spawn(actors::vcpu_actor,
                                 actors::VcpuConfig{machine, std::shared_ptr<kvm::Vcpu>(std::move(v)), kicks.back(),
                                                    caf::actor_cast<actors::vcpu_supervisor>(supervisor), {}}));
  }

  const auto boot_start = clock::now();
  while (!watch->up && clock::now() - boot_start < std::chrono::seconds(o.boot_timeout_s))
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (!watch->up) result.error = "kick guest: agent not up within " + std::to_string(o.boot_timeout_s) + " s";
  else spdlog::info("kick guest ({} vCPUs) up after {:.1f} s", n, us_since(boot_start) / 1e6);

  if (result.error.empty()) {
    caf::scoped_actor decider{system};
    auto& kick = *kicks[o.vcpu];
    auto& vcpu = vcpus[o.vcpu];
    const auto gap = std::chrono::milliseconds(o.gap_ms);
    const auto reply_timeout = std::chrono::seconds(5);
    for (int i = 0; i < o.samples && result.error.empty(); ++i) {
      // raw, blocking: kick_until_out sleeps on the kick's condition variable, woken by
      // the vCPU thread as it leaves KVM_RUN; the same kind of thread wake-up the actor
      // path ends with, so this is the baseline.
      if (!wait_in_guest(kick)) { result.error = "vCPU never back in KVM_RUN"; break; }
      auto t0 = clock::now();
      if (!kick.kick_until_out(std::chrono::seconds(5), std::chrono::seconds(1))) {
        result.error = "raw kick: vCPU not out within 5 s";
        break;
      }
      result.raw_us.push_back(us_since(t0));
      // One way: when the vCPU thread left KVM_RUN with this kick outstanding.
      if (kick.last_out_at() >= t0) result.raw_oneway_us.push_back(us_between(t0, kick.last_out_at()));
      std::this_thread::sleep_for(gap);

      // raw, polling: request() then yield until served() reaches the generation. A bare
      // spin starves the vCPU thread when the host has few CPUs (the nested host has 2).
      if (!wait_in_guest(kick)) { result.error = "vCPU never back in KVM_RUN"; break; }
      t0 = clock::now();
      const uint64_t g = kick.request();
      while (kick.served() < g) std::this_thread::yield();
      result.raw_poll_us.push_back(us_since(t0));
      std::this_thread::sleep_for(gap);

      // actor ping
      if (!wait_in_guest(kick)) { result.error = "vCPU never back in KVM_RUN"; break; }
      const uint64_t seq = static_cast<uint64_t>(i);
      t0 = clock::now();
      decider->send(vcpu, msg::ping{seq});
      kick.kick();  // every message to a vCPU is followed by a kick (DESIGN.md)
      bool got = false;
      while (!got && result.error.empty())
        decider->receive(
            [&](msg::pong& p) {
              got = p.seq == seq;
              const clock::time_point at{clock::duration(p.handled_at)};
              if (got && at >= t0) result.ping_oneway_us.push_back(us_between(t0, at));
            },
            caf::after(reply_timeout) >> [&] { result.error = "no pong within 5 s"; });
      if (got) result.ping_us.push_back(us_since(t0));
      std::this_thread::sleep_for(gap);

      // freeze of this one vCPU, straight to its actor
      if (!wait_in_guest(kick)) { result.error = "vCPU never back in KVM_RUN"; break; }
      const uint64_t id = 1000000 + static_cast<uint64_t>(i);
      t0 = clock::now();
      decider->send(vcpu, msg::freeze{id});
      kick.kick();
      got = false;
      while (!got && result.error.empty())
        decider->receive([&](msg::parked& p) { got = p.freeze_id == id; },
                         caf::after(reply_timeout) >> [&] { result.error = "no parked within 5 s"; });
      if (got) result.freeze1_us.push_back(us_since(t0));
      decider->send(vcpu, msg::thaw{id});  // parked: it waits in receive, no kick needed
      std::this_thread::sleep_for(gap);
    }
  }

  // Stop: stop + kick, re-kicked until every vCPU thread has said goodbye.
  for (size_t i = 0; i < vcpus.size(); ++i) supervisor->send(vcpus[i], msg::stop_atom::value);
  size_t exited = 0;
  const auto stop_end = clock::now() + std::chrono::seconds(10);
  while (exited < vcpus.size() && clock::now() < stop_end) {
    for (auto& k : kicks) k->kick();
    supervisor->receive([&](msg::vcpu_exited&) { ++exited; }, [](msg::guest_stopped&) {}, [](msg::vcpu_failed&) {},
                        caf::after(std::chrono::milliseconds(10)) >> [] {});
  }
  if (exited < vcpus.size() && result.error.empty()) result.error = "kick guest: vCPUs did not stop";
  return result;
}

}  // namespace ktstr::bench
