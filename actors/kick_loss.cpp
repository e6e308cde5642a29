#include "actors/kick_loss.hpp"

namespace ktstr::actors {

void KickLoss::arm(uint64_t index, uint32_t count, double at_s) {
  if (active_) owed_ = active_->outcome;
  Active a;
  a.outcome.index = index;
  a.outcome.applied_at_s = at_s;
  a.outcome.accepted = true;
  a.left = count;
  active_ = a;
}

bool KickLoss::drop(double at_s) {
  if (!active_ || active_->left == 0) return false;
  --active_->left;
  ++active_->outcome.dropped;
  if (active_->left == 0) active_->outcome.ended_at_s = at_s;
  return true;
}

std::optional<msg::fault_outcome> KickLoss::report(bool final) {
  if (owed_) {
    auto out = std::move(owed_);
    owed_.reset();
    return out;
  }
  if (!active_ || (active_->left > 0 && !final)) return std::nullopt;
  auto out = active_->outcome;
  active_.reset();
  return out;
}

}  // namespace ktstr::actors
