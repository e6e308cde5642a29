#pragma once
// The outer guest's initramfs: ktstr-nested-init as /init plus the kernel modules it
// loads (KVM for AMD, then virtio-pci and the 9p file system), taken from the unpacked
// Debian kernel package next to the bzImage.
#include <filesystem>
#include <string>
#include <vector>

namespace ktstr::cli {

/// The module files to load, in load order; throws std::runtime_error naming the first
/// module that is neither a file under modules_dir nor built into the kernel.
std::vector<std::filesystem::path> outer_modules(const std::filesystem::path& modules_dir);

/// Writes the initramfs: init_binary as /init, the modules as /modules/NN-name.ko...
void write_outer_initramfs(const std::filesystem::path& out, const std::filesystem::path& init_binary,
                           const std::vector<std::filesystem::path>& modules);

}  // namespace ktstr::cli
