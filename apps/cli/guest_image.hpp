#pragma once
// The guest's initramfs: the agent as /init plus the directories it mounts on.
#include <cstdint>
#include <filesystem>
#include <vector>

namespace ktstr::cli {

/// The agent binary placed into guest images ($KTSTR_AGENT, else the one built with us).
std::filesystem::path agent_binary();

/// Writes the initramfs to `path` and returns its bytes.
std::vector<uint8_t> build_guest_initramfs(const std::filesystem::path& path);

}  // namespace ktstr::cli
