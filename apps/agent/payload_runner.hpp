#pragma once
// The plan's payloads: real programs (stress-ng, hackbench, cyclictest, ...) started at
// t0 + start_ms in their cgroup, each in a process group of its own (so stopping one
// stops what it forked), their output kept (the last lines, for the host's metric
// parsers), reaped like workers, ended at the scenario's end (SIGTERM to the group,
// SIGKILL after 2 s) and reported with one `payload` event each.
#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apps/protocol/agent_events.hpp"
#include "apps/protocol/plan.hpp"
#include "cgroups.hpp"
#include "child_output.hpp"
#include "workers/worker_set.hpp"

namespace ktstr::agent {

class PayloadSet {
 public:
  static constexpr size_t kTailLines = 40;
  static constexpr size_t kLineBytes = 256;
  static constexpr int64_t kKillAfterNs = 2'000'000'000;

  /// `cgroups` (not owned) places each payload; the specs are the plan's.
  PayloadSet(Cgroups* cgroups, std::vector<protocol::PayloadSpec> specs);
  ~PayloadSet();

  /// Starts every payload due by `now_ns` (t0 + start_ms) that has not started.
  void start_due(int64_t t0_ns, int64_t now_ns);
  /// Takes the payloads' entries from `reaped`.
  void consume(std::vector<Reaped>& reaped);
  /// Reports of payloads that ended (or failed to start) since the last call.
  std::vector<protocol::PayloadReport> take_ended(int64_t t0_ns);
  /// Every payload started and ended (or could not start).
  bool all_ended() const;
  /// SIGTERM to every running payload's group, SIGKILL after 2 s, reaps them. Reaped
  /// children that are not payloads go to `others` when given.
  void stop_all(std::vector<Reaped>* others = nullptr);
  size_t size() const { return payloads_.size(); }

 private:
  struct Payload {
    protocol::PayloadSpec spec;
    pid_t pid = -1;
    bool started = false, ended = false, reported = false, stopped = false;
    int status = 0;
    int64_t started_ns = 0, ended_ns = 0;
    std::optional<std::string> error;
    std::unique_ptr<ChildOutput> output;
  };
  void start(Payload& p, int64_t now_ns);

  Cgroups* cgroups_;
  std::vector<Payload> payloads_;
};

}  // namespace ktstr::agent
