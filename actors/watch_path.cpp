#include "actors/watch_path.hpp"

#include <cstdio>
#include <utility>

namespace ktstr::actors {

WatchPath::WatchPath(bool enabled, uint32_t vcpus, double grace_s, std::string off_reason)
    : state_(enabled && vcpus > 0 ? State::armed : State::off),
      vcpus_(vcpus),
      grace_s_(grace_s),
      reason_(enabled ? std::string("no vCPUs") : std::move(off_reason)) {}

bool WatchPath::retarget(uint32_t slot, std::optional<WatchTarget> target) {
  if (slot >= kWatchSlots || state_ != State::armed) return false;
  auto& s = slots_[slot];
  if (s.target == target) return false;
  s = Slot{};
  s.target = target;
  return true;
}

std::optional<std::string> WatchPath::on_result(uint32_t vcpu, uint32_t slot, bool ok, const std::string& error,
                                                double now_s) {
  if (state_ != State::armed || slot >= kWatchSlots) return std::nullopt;
  if (!ok) {
    state_ = State::refused;
    reason_ = "vCPU " + std::to_string(vcpu) + " refused watchpoint slot " + std::to_string(slot) + ": " + error;
    return "hardware watchpoints unavailable on this host (" + reason_ + "): polling";
  }
  auto& s = slots_[slot];
  if (s.target && s.acks < vcpus_ && ++s.acks == vcpus_) s.armed_at_s = now_s;
  return std::nullopt;
}

bool WatchPath::on_hit(uint32_t slot, double at_s) {
  if (slot >= kWatchSlots || !slots_[slot].target) return false;
  auto& s = slots_[slot];
  s.last_hit_s = at_s;
  s.change_at_s.reset();  // whatever the poll saw, the hardware saw too
  ++hits_;
  return true;
}

void WatchPath::on_polled_change(uint32_t slot, double at_s, double poll_period_s) {
  if (state_ != State::armed || slot >= kWatchSlots) return;
  auto& s = slots_[slot];
  if (!s.target || !s.armed_at_s) return;  // not armed on every vCPU yet: a miss proves nothing
  // The word changed somewhere in the last poll period: only a change surely after the
  // arming counts, and a hit up to a grace before the poll saw it is this change's hit.
  if (at_s - poll_period_s <= *s.armed_at_s) return;
  if (s.last_hit_s && *s.last_hit_s >= at_s - poll_period_s - grace_s_) return;
  if (!s.change_at_s) s.change_at_s = at_s;
}

std::optional<std::string> WatchPath::check(double now_s) {
  if (state_ != State::armed) return std::nullopt;
  for (uint32_t slot = 0; slot < kWatchSlots; ++slot) {
    const auto& s = slots_[slot];
    if (!s.change_at_s || now_s - *s.change_at_s < grace_s_) continue;
    state_ = State::did_not_fire;
    char line[160];
    std::snprintf(line, sizeof line, "slot %u's word changed at %.3f s and no vCPU reported a hit within %.0f ms", slot,
                  *s.change_at_s, grace_s_ * 1000);
    reason_ = line;
    return "hardware watchpoints did not fire on this host (" + reason_ + "): polling";
  }
  return std::nullopt;
}

std::string WatchPath::path() const {
  switch (state_) {
    case State::armed: return hits_ > 0 ? "hardware" : "hardware+polling";
    case State::off:
    case State::refused:
    case State::did_not_fire: return "polling";
  }
  return "polling";
}

std::string WatchPath::detail(double poll_period_ms) const {
  char every[48];
  std::snprintf(every, sizeof every, "polling every %.0f ms", poll_period_ms);
  switch (state_) {
    case State::armed:
      if (hits_ > 0) return "hardware watchpoints fired (" + std::to_string(hits_) + " hit(s)); " + every + " as well";
      return std::string("hardware watchpoints armed, no hit yet (no armed word changed), so whether they fire on "
                         "this host is not known; ") + every;
    case State::off: return reason_ + ": " + every;
    case State::refused: return "hardware watchpoints unavailable (" + reason_ + "): " + every;
    case State::did_not_fire: return "hardware watchpoints did not fire on this host (" + reason_ + "): " + every;
  }
  return every;
}

}  // namespace ktstr::actors
