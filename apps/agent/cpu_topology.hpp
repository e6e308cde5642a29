#pragma once
// What the guest kernel believes its CPU topology is, read from sysfs, for the host
// to compare with the topology it declared through CPUID and ACPI.
#include "apps/protocol/agent_events.hpp"

namespace ktstr::agent {

/// The "topology" event: online/possible lists and one entry per online CPU. A file that
/// is missing or does not read as its kind becomes null; the host decides whether that is
/// a mismatch.
protocol::TopologyReport observe_topology();

}  // namespace ktstr::agent
