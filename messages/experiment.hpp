#pragma once
// An experiment's orchestrator and the runners of its VMs: each VM run is a child
// `ktstr-actors run` process, watched by a vm_runner actor of its own, so that one VM's
// crash, hang or bad input ends only that process.
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>

namespace ktstr::msg {

/// A runner started run `index` as process `pid` (the orchestrator can signal it).
struct vm_run_started {
  uint64_t index = 0;
  int32_t pid = 0;    ///< 0: a remote run (stopped through its runner, not by signal)
  std::string where;  ///< "local", or "worker HOST:PORT"
};

/// Run `index`'s process ended: its exit status, or the signal that ended it; or it
/// could not be started (`error`).
struct vm_run_ended {
  uint64_t index = 0;
  int32_t exit_code = -1;  ///< -1: did not exit normally
  int32_t signal = 0;      ///< the signal that ended it (0: none)
  double elapsed_s = 0;
  std::string error;       ///< not started, or lost: why
  std::string where;       ///< "local", or "worker HOST:PORT"
  bool lost = false;       ///< a remote run its worker could not run or finish (gone, cut off, refused)
  bool worker_gone = false;  ///< lost because the worker went away or was cut off: send it nothing more
};

/// The orchestrator to whoever waits for it: every run has ended (or was not started
/// because the experiment was interrupted).
struct experiment_finished {
  bool interrupted = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vm_run_started& x) {
  return f(caf::meta::type_name("vm_run_started"), x.index, x.pid, x.where);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vm_run_ended& x) {
  return f(caf::meta::type_name("vm_run_ended"), x.index, x.exit_code, x.signal, x.elapsed_s, x.error, x.where, x.lost,
           x.worker_gone);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, experiment_finished& x) {
  return f(caf::meta::type_name("experiment_finished"), x.interrupted);
}

}  // namespace ktstr::msg
