#pragma once
// The end of every path through the agent: PID 1 must never exit, since the kernel
// panics when init dies, and the host would see a panic instead of a clean stop.
#include "agent_channel.hpp"

namespace ktstr::agent {

/// Emits power_off, syncs, and asks the kernel to power off or reset. Never returns.
[[noreturn]] void power_off(AgentChannel& channel);

}  // namespace ktstr::agent
