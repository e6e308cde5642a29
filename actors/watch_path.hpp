#pragma once
// Which path catches the watched kernel words (slot 0: the sched_ext exit kind; slots 1-3:
// run --watch): the vCPUs' hardware watchpoints, or the monitor's polling. Both run: the
// monitor polls every watched word even while the slots are armed. This decides, from what
// happens, whether the hardware path works on this host:
//   - a vCPU refused arming (KVM without guest debugging): polling, saying why;
//   - a polled change on a slot armed on every vCPU, with no hit for that slot within the
//     grace: "hardware watchpoints did not fire on this host" (the nested software-KVM
//     hosts here accept KVM_SET_GUEST_DEBUG and never fire), polling from then on;
//   - a hit: the hardware path works.
// Not an actor: the monitor owns one and sends the arm/disarm messages it asks for.
// Times are the monitor's seconds since VM start, so tests drive it with made-up clocks.
#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace ktstr::actors {

inline constexpr uint32_t kWatchSlots = 4;

struct WatchTarget {
  uint64_t address = 0;  ///< guest virtual (linear) address
  uint32_t length = 4;
  bool operator==(const WatchTarget&) const = default;
};

class WatchPath {
 public:
  /// enabled=false: polling only, `off_reason` says why (e.g. "hardware watchpoints off (--hardware-watchpoints off)").
  WatchPath(bool enabled, uint32_t vcpus, double grace_s, std::string off_reason = {});

  /// Slot `slot` should watch `target` (nullopt: nothing, e.g. 6.16+ with no scheduler
  /// attached). True when the vCPUs must be told: arm (target) or disarm (nullopt).
  bool retarget(uint32_t slot, std::optional<WatchTarget> target);
  /// A vCPU's answer to arm/disarm (at now_s). A refusal turns the hardware path off: returns the
  /// one line to log then (once).
  std::optional<std::string> on_result(uint32_t vcpu, uint32_t slot, bool ok, const std::string& error, double now_s);
  /// A hit on `slot` (the hardware path works). False for a slot not armed (stale: ignore it).
  bool on_hit(uint32_t slot, double at_s);
  /// The poll saw `slot`'s word change at at_s (it changed within the last poll period).
  void on_polled_change(uint32_t slot, double at_s, double poll_period_s);
  /// Past a change's grace with no hit for it: the hardware path is given up. Returns the
  /// line to log then (once); the caller disarms every slot.
  std::optional<std::string> check(double now_s);

  /// Slots are (being) armed and may catch writes; false once given up or refused.
  bool hardware_active() const { return state_ == State::armed; }
  std::optional<WatchTarget> target(uint32_t slot) const { return slot < kWatchSlots ? slots_[slot].target : std::nullopt; }
  uint64_t hits() const { return hits_; }
  /// "hardware", "polling", or "off"...: the short name of the path for result.json.
  std::string path() const;
  /// One sentence for the report: what was tried and what was decided, and why.
  std::string detail(double poll_period_ms) const;

 private:
  enum class State { off, armed, refused, did_not_fire };
  struct Slot {
    std::optional<WatchTarget> target;
    uint32_t acks = 0;                  ///< vCPUs that took the current target
    std::optional<double> armed_at_s;   ///< when the last vCPU took it
    std::optional<double> last_hit_s;
    std::optional<double> change_at_s;  ///< an unconfirmed polled change (the earliest)
  };
  State state_;
  uint32_t vcpus_;
  double grace_s_;
  std::string reason_;
  std::array<Slot, kWatchSlots> slots_{};
  uint64_t hits_ = 0;
};

}  // namespace ktstr::actors
