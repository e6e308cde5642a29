#pragma once
// A worker's content-addressed file cache: every file a job needs (kernel, scheduler,
// scenario, payload program) lives once under DIR/<sha256>, written only after its whole
// content arrived and hashed to that name. Uploads go to DIR/partial/<sha256>.<upload> and
// are hashed as they arrive. Past `max_bytes` the least recently used files go, never one a
// job in flight holds (pinned).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace ktstr::cli {

class FileCache {
 public:
  FileCache(std::filesystem::path dir, uint64_t max_bytes);

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path path_of(const std::string& sha256) const { return dir_ / sha256; }
  /// The file is here, with this size (it was hashed when it arrived).
  bool has(const std::string& sha256, uint64_t size) const;
  /// Marks it used now (eviction order).
  void touch(const std::string& sha256) const;
  /// Removes least recently used files until the cache holds at most max_bytes, sparing `pinned`.
  void evict(const std::set<std::string>& pinned) const;
  uint64_t bytes() const;

  /// One file arriving in pieces, in order.
  class Upload {
   public:
    ~Upload();
    Upload(const Upload&) = delete;
    Upload& operator=(const Upload&) = delete;
    uint64_t received() const { return received_; }
    bool complete() const { return received_ == size_; }
    /// Appends data at `offset` (which must be received()). Error: one line; the upload is then void.
    std::optional<std::string> append(uint64_t offset, const char* data, size_t n);
    /// Once complete: checks the hash, moves the file into the cache. Error: one line.
    std::optional<std::string> finish();

   private:
    friend class FileCache;
    Upload(const FileCache& cache, std::string sha256, uint64_t size, uint64_t tag);
    struct Hash;
    const FileCache& cache_;
    std::string sha256_;
    uint64_t size_;
    uint64_t received_ = 0;
    std::filesystem::path partial_;
    int fd_ = -1;
    std::unique_ptr<Hash> hash_;
    bool finished_ = false;
  };

  /// Starts an upload; `tag` keeps concurrent uploads of the same file apart. Throws
  /// std::runtime_error when the partial file cannot be made.
  std::unique_ptr<Upload> begin(const std::string& sha256, uint64_t size, uint64_t tag) const;

 private:
  std::filesystem::path dir_;
  uint64_t max_bytes_;
};

}  // namespace ktstr::cli
