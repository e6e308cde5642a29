#pragma once
// What a dynamically linked program needs to start in a guest that has nothing else:
// its ELF interpreter and every shared library it needs, found the way the dynamic
// loader finds them (DT_RPATH, DT_RUNPATH with $ORIGIN, then the system directories).
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace ktstr::cli {

/// The program is not a usable x86-64 ELF executable, or a library it needs is missing.
struct ProgramDependencyError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// One file to copy into the guest: the path the loader will open there (absolute), and
/// the host file with the contents (symlinks resolved).
struct GuestFile {
  std::string guest_path;
  std::filesystem::path host_path;
  bool operator==(const GuestFile&) const = default;
};

/// The interpreter and the transitive DT_NEEDED closure of `program`, each once, in
/// discovery order. A static program needs nothing (empty result).
/// `system_dirs` are the loader's default directories (tests pass their own).
std::vector<GuestFile> program_dependencies(const std::filesystem::path& program,
                                            const std::vector<std::string>& system_dirs = {});

/// Debian x86-64's default library directories, in the loader's order.
const std::vector<std::string>& default_library_dirs();

}  // namespace ktstr::cli
