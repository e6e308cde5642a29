#include "apps/cli/guest/payload_program.hpp"

#include <unistd.h>

#include <sstream>

namespace ktstr::cli {

namespace fs = std::filesystem;

namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

bool executable_file(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec) && ::access(path.c_str(), X_OK) == 0;
}

fs::path find_in_path(const std::string& name, const std::string& path_env) {
  std::istringstream dirs(path_env.empty() ? kDefaultPath : path_env);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) continue;  // "" would be the working directory: not for a payload
    fs::path candidate = fs::path(dir) / name;
    if (executable_file(candidate)) return fs::absolute(candidate);
  }
  return {};
}

}  // namespace

PayloadProgram resolve_payload_program(const std::string& program, const fs::path& base_dir,
                                       const std::string& path_env) {
  if (program.empty()) throw PayloadProgramError("payload: no program given");
  fs::path host;
  if (program.find('/') != std::string::npos) {
    host = fs::path(program);
    if (host.is_relative() && !base_dir.empty()) host = base_dir / host;
    host = fs::absolute(host).lexically_normal();
    std::error_code ec;
    if (!fs::exists(host, ec)) throw PayloadProgramError("payload " + program + ": " + host.string() + " does not exist");
    if (!fs::is_regular_file(host, ec)) throw PayloadProgramError("payload " + program + ": " + host.string() + " is not a regular file");
    if (::access(host.c_str(), X_OK) != 0) throw PayloadProgramError("payload " + program + ": " + host.string() + " is not executable");
  } else {
    host = find_in_path(program, path_env);
    if (host.empty())
      throw PayloadProgramError("payload " + program + ": not found in PATH (" +
                                (path_env.empty() ? std::string(kDefaultPath) : path_env) +
                                "); install it (scripts/setup.sh installs stress-ng and rt-tests) or give a path");
  }
  PayloadProgram out;
  out.host = host;
  try {
    out.libraries = program_dependencies(host);
  } catch (const ProgramDependencyError& e) {
    throw PayloadProgramError("payload " + program + " (" + host.string() + ") cannot run in the guest: " + e.what());
  }
  return out;
}

}  // namespace ktstr::cli
