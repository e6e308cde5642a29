#pragma once
// The guest's initramfs: the agent as /init, the directories it mounts on and, for a
// scenario run, the plan (/ktstr/plan.json), the scheduler under test and the payloads,
// with every shared library they need at the path the guest's loader will look for it.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "apps/cli/guest/shared_libraries.hpp"
#include "apps/protocol/guest_paths.hpp"

namespace ktstr::cli {

// Where the plan and the scheduler land in the guest: apps/protocol/guest_paths.hpp.

/// A payload's program and where it lands in the guest (protocol::guest_payload_path).
struct GuestPayload {
  std::string guest_path;
  std::filesystem::path host;
  std::vector<GuestFile> libraries;
};

struct GuestImageContents {
  std::filesystem::path agent;                        ///< the agent binary, /init (agent_binary())
  std::optional<std::string> plan_json;               ///< the scenario plan, if any
  std::optional<std::filesystem::path> scheduler;     ///< host path of the scheduler under test
  std::vector<GuestPayload> payloads;                 ///< programs the plan runs
};

/// The agent binary to place into guest images: $KTSTR_AGENT (`env_agent`), else the one
/// built with us.
std::filesystem::path agent_binary(const std::optional<std::filesystem::path>& env_agent);

/// The guest path of the scheduler binary `host_path`.
std::string guest_scheduler_path(const std::filesystem::path& host_path);

/// Writes the initramfs to `path` and returns its bytes. Throws ProgramDependencyError
/// when the scheduler or one of its libraries cannot be placed.
std::vector<uint8_t> build_guest_initramfs(const std::filesystem::path& path,
                                           const GuestImageContents& contents);

}  // namespace ktstr::cli
