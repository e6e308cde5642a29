#include "apps/cli/vm/perf_choice.hpp"

namespace ktstr::cli {

PerfChoice choose_perf_period(std::optional<unsigned> requested_ms, const kvm::HostQuirks& quirks) {
  if (requested_ms) {
    if (*requested_ms == 0) return {std::chrono::milliseconds(0), "off (--perf-period 0)"};
    return {std::chrono::milliseconds(*requested_ms), {}};
  }
  if (quirks.ipi_to_guest_may_hang)
    return {std::chrono::milliseconds(0),
            "off by default under " + quirks.outer_hypervisor +
                ": reading a running vCPU thread's counters waits for an IPI that this emulated host can "
                "fail to deliver; --perf-period MS turns it on"};
  return {kDefaultPerfPeriod, {}};
}

}  // namespace ktstr::cli
