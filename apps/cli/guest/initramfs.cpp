#include "apps/cli/guest/initramfs.hpp"

#include "apps/cli/base/read_file.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace ktstr::cli {

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error("initramfs: " + what); }

// The kernel resolves every name relative to the initramfs root, so archive paths are
// stored relative ("bin/sh"); ".." could escape nothing there but is always a caller bug.
std::string normalise(std::string_view path) {
  std::string out;
  std::size_t i = 0;
  while (i <= path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    if (part == "..") fail("'..' in archive path '" + std::string(path) + "'");
    if (!part.empty() && part != ".") {
      if (!out.empty()) out += '/';
      out += part;
    }
    i = j + 1;
  }
  if (out.empty()) fail("empty archive path '" + std::string(path) + "'");
  return out;
}

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

}  // namespace

void Initramfs::add_parents(const std::string& path) {
  for (std::size_t slash = path.find('/'); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    std::string parent = path.substr(0, slash);
    if (auto it = index_.find(parent); it != index_.end()) {
      if (entries_[it->second].kind != Kind::directory) fail("'" + parent + "' is not a directory, cannot hold '" + path + "'");
      continue;
    }
    index_.emplace(parent, entries_.size());
    entries_.push_back({parent, Kind::directory, 0755, {}});
  }
}

void Initramfs::add_entry(Entry entry) {
  add_parents(entry.path);
  if (auto it = index_.find(entry.path); it != index_.end()) {
    Entry& existing = entries_[it->second];
    // An explicit directory may follow an implicit one: it only sets the mode.
    if (entry.kind == Kind::directory && existing.kind == Kind::directory) {
      existing.mode = entry.mode;
      return;
    }
    fail("duplicate entry '" + entry.path + "'");
  }
  index_.emplace(entry.path, entries_.size());
  entries_.push_back(std::move(entry));
}

void Initramfs::add_directory(std::string_view path, unsigned mode) {
  add_entry({normalise(path), Kind::directory, mode & 07777, {}});
}

void Initramfs::add_file(std::string_view archive_path, const std::filesystem::path& host_path,
                         unsigned mode) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(host_path, ec))
    fail("cannot add '" + host_path.string() + "': " +
         (ec ? ec.message() : std::filesystem::exists(host_path) ? "not a regular file"
                                                                  : "No such file or directory"));
  auto bytes = read_file(host_path);
  if (!bytes) fail("cannot read '" + host_path.string() + "': " + std::strerror(errno));
  add_entry({normalise(archive_path), Kind::file, mode & 07777, std::move(*bytes)});
}

void Initramfs::add_bytes(std::string_view archive_path, std::string_view bytes, unsigned mode) {
  add_entry({normalise(archive_path), Kind::file, mode & 07777, std::string(bytes)});
}

void Initramfs::add_bytes(std::string_view archive_path, std::span<const std::uint8_t> bytes,
                          unsigned mode) {
  add_entry({normalise(archive_path), Kind::file, mode & 07777,
             std::string(bytes.begin(), bytes.end())});
}

void Initramfs::add_symlink(std::string_view path, std::string_view target) {
  if (target.empty()) fail("empty symlink target for '" + std::string(path) + "'");
  add_entry({normalise(path), Kind::symlink, 0777, std::string(target)});
}

void Initramfs::add_char_device(std::string_view path, unsigned major, unsigned minor,
                                unsigned mode) {
  add_entry({normalise(path), Kind::char_device, mode & 07777, {}, major, minor});
}

void Initramfs::write(const std::filesystem::path& out_path) const {
  std::unique_ptr<archive, ArchiveDeleter> a(archive_write_new());
  if (!a) fail("out of memory");
  auto check = [&](int rc, const std::string& what) {
    if (rc != ARCHIVE_OK) {
      const char* msg = archive_error_string(a.get());
      fail(what + ": " + (msg ? msg : "unknown libarchive error"));
    }
  };
  check(archive_write_set_format_cpio_newc(a.get()), "newc format");
  check(archive_write_add_filter_none(a.get()), "no compression");
  // No zero padding to a 10 KiB block: the file is exactly the archive.
  check(archive_write_set_bytes_in_last_block(a.get(), 1), "block size");
  check(archive_write_open_filename(a.get(), out_path.c_str()), "cannot create '" + out_path.string() + "'");

  std::int64_t ino = 1;
  for (const Entry& e : entries_) {
    std::unique_ptr<archive_entry, EntryDeleter> ae(archive_entry_new());
    archive_entry_set_pathname(ae.get(), e.path.c_str());
    archive_entry_set_uid(ae.get(), 0);
    archive_entry_set_gid(ae.get(), 0);
    archive_entry_set_mtime(ae.get(), 0, 0);  // reproducible archives
    // Unique inode numbers and nlink 1: the kernel treats regular files sharing
    // (ino, dev) with nlink >= 2 as hard links of each other.
    archive_entry_set_ino64(ae.get(), ino++);
    archive_entry_set_nlink(ae.get(), e.kind == Kind::directory ? 2 : 1);
    archive_entry_set_size(ae.get(), 0);  // libarchive requires a size on every entry
    switch (e.kind) {
      case Kind::directory:
        archive_entry_set_filetype(ae.get(), AE_IFDIR);
        break;
      case Kind::file:
        archive_entry_set_filetype(ae.get(), AE_IFREG);
        archive_entry_set_size(ae.get(), static_cast<la_int64_t>(e.data.size()));
        break;
      case Kind::symlink:
        archive_entry_set_filetype(ae.get(), AE_IFLNK);
        archive_entry_set_symlink(ae.get(), e.data.c_str());
        break;
      case Kind::char_device:
        archive_entry_set_filetype(ae.get(), AE_IFCHR);
        archive_entry_set_rdevmajor(ae.get(), e.major);
        archive_entry_set_rdevminor(ae.get(), e.minor);
        break;
    }
    archive_entry_set_perm(ae.get(), e.mode);
    check(archive_write_header(a.get(), ae.get()), "cannot write entry '" + e.path + "'");
    if (e.kind == Kind::file && !e.data.empty()) {
      la_ssize_t n = archive_write_data(a.get(), e.data.data(), e.data.size());
      if (n < 0 || static_cast<std::size_t>(n) != e.data.size())
        fail("cannot write data of '" + e.path + "': " +
             (archive_error_string(a.get()) ? archive_error_string(a.get()) : "short write"));
    }
  }
  check(archive_write_close(a.get()), "cannot finish '" + out_path.string() + "'");
}

}  // namespace ktstr::cli
