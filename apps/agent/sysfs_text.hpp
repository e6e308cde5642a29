#pragma once
// Reading the small text files of /proc and /sys. Every reader returns nullopt (or an
// empty list) instead of failing: a kernel without some file must still produce a report.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace ktstr::agent {

/// The file's text without trailing newlines and spaces; nullopt when unreadable.
std::optional<std::string> read_text(const std::string& path, std::size_t limit = 64 * 1024);

/// The file's text as a decimal integer; nullopt when unreadable or not an integer.
std::optional<long long> read_integer(const std::string& path);

bool path_exists(const std::string& path);

/// Names in a directory, without "." and ".."; empty when it cannot be read.
std::vector<std::string> list_dir(const std::string& path);

}  // namespace ktstr::agent
