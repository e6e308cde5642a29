#pragma once
// Which QEMU emulates the nested software-KVM host, and which version it is. QEMU 10
// (bookworm-backports, unpacked into the cache by scripts/fetch-qemu.sh) ran the KVM
// tests without the nested-host wedges bookworm's 7.2 showed (shared/docs/PLATFORM.md
// §1); 7.2 from PATH still works where it is all a machine has.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apps/cli/base/environment.hpp"

namespace ktstr::cli {

/// The oldest QEMU major version the nested host ran reliably on.
inline constexpr unsigned kReliableQemuMajor = 10;

struct QemuVersion {
  unsigned major = 0, minor = 0, micro = 0;
};

/// The version in `qemu-system-x86_64 --version` output ("QEMU emulator version 10.0.2
/// (Debian ...)"), or nullopt when the text has none.
std::optional<QemuVersion> parse_qemu_version(std::string_view version_output);

/// "10.0.2".
std::string to_string(const QemuVersion& version);

struct QemuEmulator {
  std::filesystem::path binary;
  std::vector<std::filesystem::path> data_dirs;  ///< given as -L, searched before QEMU's own
  std::string origin;                            ///< where it was found, for the log
};

/// Firmware and option-ROM directories of an unpacked QEMU (<prefix>/bin/qemu-system-*
/// beside <prefix>/share/qemu and share/seabios). A binary unpacked from a .deb still
/// looks in /usr/share (another version's ROMs, or none), so these must come first.
/// Empty for a binary in /usr/bin, whose own directories QEMU already searches.
std::vector<std::filesystem::path> qemu_data_dirs(const std::filesystem::path& binary);

/// $KTSTR_QEMU when set (not an executable file: nullopt, which tests use to simulate a
/// machine without QEMU), else the QEMU scripts/setup.sh unpacked into the cache
/// (<cache>/qemu/current), else qemu-system-x86_64 in PATH.
std::optional<QemuEmulator> find_qemu(const Environment& env);

/// What `binary --version` prints on stdout, or nullopt when it does not run or exit 0.
std::optional<std::string> qemu_version_output(const std::filesystem::path& binary);

}  // namespace ktstr::cli
