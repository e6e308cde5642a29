#pragma once
// SHA-256 of a file (OpenSSL libcrypto, EVP), as lowercase hex: the kernel-facts cache key.
#include <filesystem>
#include <optional>
#include <string>

namespace ktstr::cli {

/// nullopt when the file cannot be read.
std::optional<std::string> file_sha256(const std::filesystem::path& path);

}  // namespace ktstr::cli
