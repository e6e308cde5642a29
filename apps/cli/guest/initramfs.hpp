#pragma once
// An uncompressed cpio "newc" archive, the format the kernel unpacks as its initramfs.
// Entries are collected in memory and written in the order they were added; a parent
// directory is always emitted before its first child, because the kernel's unpacker
// creates each entry as it reads it and does not create missing parents.
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ktstr::cli {

class Initramfs {
 public:
  /// Adds a directory (and, implicitly, its parents with mode 0755).
  void add_directory(std::string_view path, unsigned mode = 0755);
  /// Adds a regular file whose contents are read from host_path now.
  void add_file(std::string_view archive_path, const std::filesystem::path& host_path,
                unsigned mode = 0644);
  /// Adds a regular file with the given contents.
  void add_bytes(std::string_view archive_path, std::string_view bytes, unsigned mode = 0644);
  void add_bytes(std::string_view archive_path, std::span<const std::uint8_t> bytes,
                 unsigned mode = 0644);
  /// Adds a symbolic link path -> target (target is stored verbatim).
  void add_symlink(std::string_view path, std::string_view target);
  /// Adds a character device node, e.g. /dev/console (5, 1).
  void add_char_device(std::string_view path, unsigned major, unsigned minor,
                       unsigned mode = 0600);
  /// Writes the archive to out_path (replaced if it exists).
  void write(const std::filesystem::path& out_path) const;

  std::size_t size() const { return entries_.size(); }

 private:
  enum class Kind { directory, file, symlink, char_device };
  struct Entry {
    std::string path;  // normalised: relative, no "." or ".." components
    Kind kind;
    unsigned mode;
    std::string data;  // file contents or symlink target
    unsigned major = 0, minor = 0;
  };

  void add_entry(Entry entry);
  void add_parents(const std::string& path);

  std::vector<Entry> entries_;
  std::map<std::string, std::size_t> index_;  // path -> position in entries_
};

}  // namespace ktstr::cli
