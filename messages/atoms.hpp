#pragma once
// The atoms: messages that carry nothing but their name. Messages with values are
// structs in the other headers of this folder.
#include <caf/atom.hpp>

namespace ktstr::msg {

using stop_atom = caf::atom_constant<caf::atom("stop")>;              ///< leave the run loop / end the VM
using tail_atom = caf::atom_constant<caf::atom("tail")>;              ///< ask the console for its tail (console_tail)
using rekick_atom = caf::atom_constant<caf::atom("rekick")>;          ///< vm tick: kick vCPUs that have not stopped yet
using sample_atom = caf::atom_constant<caf::atom("sample")>;          ///< perf sampler / watchdog tick
using soft_atom = caf::atom_constant<caf::atom("soft")>;              ///< watchdog: soft stage reached
using hard_atom = caf::atom_constant<caf::atom("hard")>;              ///< watchdog: hard stage reached
using perf_report_atom = caf::atom_constant<caf::atom("perfreport")>;  ///< ask the perf sampler for its perf_report
using exit_poll_atom = caf::atom_constant<caf::atom("exitpoll")>;  ///< monitor tick: poll the sched_ext exit kind
using evidence_atom = caf::atom_constant<caf::atom("evidence")>;  ///< vm tick: stop waiting for the final freeze
using monitor_report_atom = caf::atom_constant<caf::atom("monreport")>;  ///< ask the monitor for its monitor_report
using orchestrate_atom = caf::atom_constant<caf::atom("orchestr")>;  ///< orchestrator tick: start runs, watch for a stop

}  // namespace ktstr::msg
