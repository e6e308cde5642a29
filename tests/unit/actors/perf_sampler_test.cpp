#include <catch2/catch.hpp>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "actors/perf_sampler.hpp"
#include "actors/runtime_config.hpp"
#include "apps/cli/report/perf_json.hpp"
#include "kvm/perf_counters.hpp"
#include "messages/messages.hpp"
#include "tests/support/worker_thread.hpp"

using namespace ktstr;
using ktstr::test::WorkerThread;

namespace {

// A fresh config per system: actor_system may consume parts of the one it is given.
struct SamplerTestConfig : caf::actor_system_config {
  SamplerTestConfig() {
    actors::configure_runtime(*this);
  }
};

actors::PerfSamplerConfig fast_config(actors::perf_sample_listener observer = {}) {
  actors::PerfSamplerConfig c;
  c.period = std::chrono::milliseconds(20);  // a few periods fit in a short test
  c.start = std::chrono::steady_clock::now();
  c.observer = std::move(observer);
  return c;
}

// The report as result.json shows it: the sampler's typed report through the run report's JSON.
nlohmann::json request_report(caf::scoped_actor& self, const actors::perf_sampler_actor_t& sampler) {
  nlohmann::json out;
  self->request(sampler, std::chrono::seconds(5), msg::perf_report_atom::value)
      .receive([&](msg::perf_report& report) { out = cli::perf_json(report); },
               [&](caf::error& err) { FAIL("no report: " << to_string(err)); });
  return out;
}

std::set<std::pair<std::string, std::string>> as_set(const std::vector<kvm::CounterUnavailable>& list) {
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& u : list) out.emplace(u.name, u.reason);
  return out;
}

}  // namespace

TEST_CASE("perf sampler records a timeline with advancing task-clock for a started vCPU thread") {
  SamplerTestConfig cfg;
  caf::actor_system system{cfg};
  caf::scoped_actor self{system};
  WorkerThread spinner(WorkerThread::Mode::spin);
  auto sampler = system.spawn(actors::perf_sampler_actor, fast_config());
  self->send(sampler, msg::vcpu_started{0, spinner.tid()});
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto report = request_report(self, sampler);
  self->send_exit(sampler, caf::exit_reason::user_shutdown);

  CHECK(report["period_ms"] == 20);
  REQUIRE(report["vcpus"].size() == 1);
  const auto& vcpu = report["vcpus"][0];
  CHECK(vcpu["vcpu"] == 0);
  CHECK(vcpu["tid"] == spinner.tid());
  CHECK(vcpu["exited_at_s"].is_null());
  const auto& samples = vcpu["samples"];
  REQUIRE(samples.size() >= 3);
  double previous = -1;
  uint64_t task_clock = 0;
  for (const auto& s : samples) {
    CHECK(s["at_s"].get<double>() > previous);
    previous = s["at_s"].get<double>();
    task_clock += s["deltas"].value("task-clock", uint64_t{0});
  }
  CHECK(task_clock > 0);

  // The sampler reports exactly what the native layer reports for the same thread.
  kvm::PerfCounters direct(spinner.tid());
  std::set<std::pair<std::string, std::string>> reported;
  for (const auto& u : vcpu["unavailable"]) reported.emplace(u["name"], u["reason"]);
  CHECK(reported == as_set(direct.unavailable()));
  std::set<std::pair<std::string, std::string>> merged;
  for (const auto& u : report["unavailable"]) {
    merged.emplace(u["name"], u["reason"]);
    CHECK(u["vcpus"] == nlohmann::json::array({0}));
  }
  CHECK(merged == reported);
}

TEST_CASE("perf sampler forwards each sample to the observer") {
  SamplerTestConfig cfg;
  caf::actor_system system{cfg};
  caf::scoped_actor observer{system};
  WorkerThread spinner(WorkerThread::Mode::spin);
  auto sampler =
      system.spawn(actors::perf_sampler_actor, fast_config(caf::actor_cast<actors::perf_sample_listener>(observer)));
  observer->send(sampler, msg::vcpu_started{3, spinner.tid()});
  bool got = false;
  observer->receive([&](msg::perf_sample& s) {
                      got = true;
                      CHECK(s.vcpu == 3);
                      CHECK_FALSE(s.counters.empty());
                    },
                    caf::after(std::chrono::seconds(2)) >> [] {});
  observer->send_exit(sampler, caf::exit_reason::user_shutdown);
  CHECK(got);
}

TEST_CASE("perf sampler reports a vCPU thread that exits, and one that never existed, without failing") {
  SamplerTestConfig cfg;
  caf::actor_system system{cfg};
  caf::scoped_actor self{system};
  auto sampler = system.spawn(actors::perf_sampler_actor, fast_config());
  WorkerThread short_lived(WorkerThread::Mode::spin);
  self->send(sampler, msg::vcpu_started{0, short_lived.tid()});
  self->send(sampler, msg::vcpu_started{1, -1});  // no such thread (and not "every thread")
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  short_lived.stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto report = request_report(self, sampler);
  self->send_exit(sampler, caf::exit_reason::user_shutdown);

  REQUIRE(report["vcpus"].size() == 2);
  const auto& exited = report["vcpus"][0];
  CHECK(exited["exited_at_s"].is_number());
  CHECK_FALSE(exited["samples"].empty());
  const auto& missing = report["vcpus"][1];
  CHECK(missing["counters"].empty());
  CHECK(missing["samples"].empty());
  CHECK(missing["unavailable"].size() == 7);
}
