#pragma once
// What the watchdog is told (progress, time frozen) and what it tells the vm actor
// besides soft_atom / hard_atom (atoms.hpp).
#include <caf/meta/type_name.hpp>

namespace ktstr::msg {

/// Guest progress seen (agent heartbeat or any console output).
struct progress {
  double at_s = 0;
};

/// The guest stood still for this long (frozen): deadlines move by as much.
struct frozen_for {
  double seconds = 0;
};

/// Watchdog -> vm: no guest output or heartbeat for this long; the run ends as a hang.
struct stall {
  double silent_s = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, progress& x) {
  return f(caf::meta::type_name("progress"), x.at_s);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, frozen_for& x) {
  return f(caf::meta::type_name("frozen_for"), x.seconds);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stall& x) {
  return f(caf::meta::type_name("stall"), x.silent_s);
}

}  // namespace ktstr::msg
