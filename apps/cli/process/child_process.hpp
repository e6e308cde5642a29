#pragma once
// Starting helper processes (QEMU) without a shell: fork + execve with an explicit fd
// map. The child dies with us (PR_SET_PDEATHSIG), so an interrupted CLI never leaves a
// QEMU running on its own.
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ktstr::cli {

/// The first executable file called name in $PATH, or nullopt.
std::optional<std::filesystem::path> find_in_path(std::string_view name);

struct FdMapping {
  int child_fd;   ///< the number the child sees (0, 1, 2, 3, ...)
  int parent_fd;  ///< our descriptor it refers to
};

/// Starts program with argv (argv[0] is only the name shown) and our environment. The child
/// gets the mapped descriptors, plus our 0-2 where not mapped, nothing else. Throws
/// std::runtime_error if it cannot be executed.
pid_t spawn_process(const std::filesystem::path& program, const std::vector<std::string>& argv,
                    const std::vector<FdMapping>& fds);

}  // namespace ktstr::cli
