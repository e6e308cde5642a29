#pragma once
// The watchdog: the run deadline in two stages (soft: ask the guest agent to finish and
// power off; hard: stop the VM) and a no-progress deadline (no guest output or heartbeat
// for too long: the run ends as a hang). Time the guest spent frozen does not count.
#include <caf/all.hpp>

#include <chrono>
#include <optional>

#include "actors/interfaces.hpp"

namespace ktstr::actors {

struct WatchdogConfig {
  std::chrono::milliseconds run_deadline{std::chrono::seconds(60)};
  std::chrono::milliseconds hard_grace{std::chrono::seconds(10)};   ///< soft -> hard
  std::chrono::milliseconds stall_timeout{std::chrono::seconds(0)};  ///< 0: off
  std::chrono::milliseconds tick{std::chrono::milliseconds(100)};
  watchdog_listener vm;  ///< receives soft_atom, hard_atom, stall
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
};

/// The deadline arithmetic, apart from the actor so it can be tested with a fake clock.
class WatchdogClock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::steady_clock::duration;
  WatchdogClock(const WatchdogConfig& config) : config_(config), last_progress_(config.start) {}

  void on_progress(time_point now) {
    last_progress_ = now;
    frozen_since_progress_ = {};
  }
  void on_frozen(duration d) {
    frozen_total_ += d;
    frozen_since_progress_ += d;
  }
  /// Run time that counts: wall time minus time frozen.
  duration effective(time_point now) const { return now - config_.start - frozen_total_; }
  duration silent(time_point now) const { return now - last_progress_ - frozen_since_progress_; }
  bool soft_due(time_point now) const { return effective(now) >= config_.run_deadline; }
  bool hard_due(time_point now) const { return effective(now) >= config_.run_deadline + config_.hard_grace; }
  bool stall_due(time_point now) const {
    return config_.stall_timeout.count() > 0 && silent(now) >= config_.stall_timeout;
  }

 private:
  WatchdogConfig config_;
  time_point last_progress_;
  duration frozen_total_{};
  duration frozen_since_progress_{};
};

struct watchdog_state {
  WatchdogConfig config;
  std::optional<WatchdogClock> clock;
  bool soft_sent = false, hard_sent = false, stall_sent = false;
  static constexpr const char* name = "watchdog";
};

watchdog_actor_t::behavior_type watchdog_actor(watchdog_actor_t::stateful_pointer<watchdog_state> self,
                                               WatchdogConfig config);

}  // namespace ktstr::actors
