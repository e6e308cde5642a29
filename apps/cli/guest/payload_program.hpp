#pragma once
// A payload's program on the host: found the way a shell finds a command (a name with a
// '/' is a path, relative to the declaring file's directory; a bare name is looked up in
// PATH), and checked before anything boots: a regular, executable x86-64 ELF file whose
// every shared library is there to copy into the guest.
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "apps/cli/guest/shared_libraries.hpp"

namespace ktstr::cli {

/// Why a payload cannot run: one line naming the program.
struct PayloadProgramError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct PayloadProgram {
  std::filesystem::path host;       ///< absolute
  std::vector<GuestFile> libraries;  ///< its interpreter and shared libraries (empty: static)
};

/// `program` as declared; `base_dir` for a relative path (empty: the working directory);
/// `path_env` the PATH to search (the environment's, or the loader's defaults when empty).
/// Throws PayloadProgramError.
PayloadProgram resolve_payload_program(const std::string& program, const std::filesystem::path& base_dir,
                                       const std::string& path_env);

}  // namespace ktstr::cli
