#pragma once
// Reading a whole file: the one helper the CLI's concerns use.
#include <filesystem>
#include <optional>
#include <string>

namespace ktstr::cli {

/// The file's bytes; nullopt when it cannot be opened or read (errno says why).
std::optional<std::string> read_file(const std::filesystem::path& path);

}  // namespace ktstr::cli
