#pragma once
// What the guest kernel believes its CPU topology is, read from sysfs, for the host
// to compare with the topology it declared through CPUID and ACPI.
#include "agent_channel.hpp"

namespace ktstr::agent {

/// Fields of the "topology" event: online/possible lists and one entry per online CPU.
/// Missing files become null; the host decides whether that is a mismatch.
Json topology_fields();

}  // namespace ktstr::agent
