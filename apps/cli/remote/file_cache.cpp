#include "apps/cli/remote/file_cache.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "apps/cli/remote/job_limits.hpp"

namespace fs = std::filesystem;

namespace ktstr::cli {

struct FileCache::Upload::Hash {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Hash() { EVP_MD_CTX_free(ctx); }
};

FileCache::FileCache(fs::path dir, uint64_t max_bytes) : dir_(std::move(dir)), max_bytes_(max_bytes) {
  std::error_code ec;
  fs::create_directories(dir_ / "partial", ec);
  if (ec) throw std::runtime_error("cannot create the file cache " + dir_.string() + ": " + ec.message());
  // Partial files left by a process that died long ago (several workers may share a cache).
  const auto day_ago = fs::file_time_type::clock::now() - std::chrono::hours(24);
  for (const auto& e : fs::directory_iterator(dir_ / "partial", ec))
    if (e.last_write_time(ec) < day_ago) fs::remove(e.path(), ec);
}

bool FileCache::has(const std::string& sha256, uint64_t size) const {
  if (!valid_sha256(sha256)) return false;
  std::error_code ec;
  const auto st = fs::symlink_status(path_of(sha256), ec);
  return !ec && fs::is_regular_file(st) && fs::file_size(path_of(sha256), ec) == size && !ec;
}

void FileCache::touch(const std::string& sha256) const {
  std::error_code ec;
  fs::last_write_time(path_of(sha256), fs::file_time_type::clock::now(), ec);
}

uint64_t FileCache::bytes() const {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec))
    if (e.is_regular_file(ec) && valid_sha256(e.path().filename().string())) total += e.file_size(ec);
  return total;
}

void FileCache::evict(const std::set<std::string>& pinned) const {
  struct Entry {
    fs::file_time_type used;
    fs::path path;
    uint64_t size;
  };
  std::vector<Entry> entries;
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    const std::string name = e.path().filename().string();
    if (!valid_sha256(name) || !e.is_regular_file(ec)) continue;
    const uint64_t size = e.file_size(ec);
    total += size;
    if (!pinned.count(name)) entries.push_back({e.last_write_time(ec), e.path(), size});
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.used < b.used; });
  for (const auto& e : entries) {
    if (total <= max_bytes_) break;
    if (fs::remove(e.path, ec)) total -= e.size;
  }
}

std::unique_ptr<FileCache::Upload> FileCache::begin(const std::string& sha256, uint64_t size, uint64_t tag) const {
  return std::unique_ptr<Upload>(new Upload(*this, sha256, size, tag));
}

FileCache::Upload::Upload(const FileCache& cache, std::string sha256, uint64_t size, uint64_t tag)
    : cache_(cache), sha256_(std::move(sha256)), size_(size), hash_(std::make_unique<Hash>()) {
  if (!valid_sha256(sha256_)) throw std::runtime_error("not a SHA-256");
  partial_ = cache_.dir() / "partial" / fmt::format("{}.{}.{}", sha256_, ::getpid(), tag);
  fd_ = ::open(partial_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd_ < 0) throw std::runtime_error("cannot create " + partial_.string() + ": " + std::strerror(errno));
  if (!hash_->ctx || EVP_DigestInit_ex(hash_->ctx, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("OpenSSL: cannot start a SHA-256");
}

FileCache::Upload::~Upload() {
  if (fd_ >= 0) ::close(fd_);
  if (!finished_) {
    std::error_code ec;
    fs::remove(partial_, ec);
  }
}

std::optional<std::string> FileCache::Upload::append(uint64_t offset, const char* data, size_t n) {
  if (fd_ < 0) return std::string("the upload was already refused");
  std::optional<std::string> why;
  if (offset != received_) why = fmt::format("a piece at offset {} where {} was expected", offset, received_);
  else if (n == 0 || n > kChunkBytes) why = fmt::format("a piece of {} bytes (1 .. {} allowed)", n, kChunkBytes);
  else if (n > size_ - received_) why = fmt::format("more than the announced {} bytes", size_);
  if (!why) {
    size_t done = 0;
    while (done < n) {
      const ssize_t w = ::write(fd_, data + done, n - done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        why = fmt::format("cannot write the cache: {}", std::strerror(errno));
        break;
      }
      done += static_cast<size_t>(w);
    }
  }
  if (why) {
    ::close(fd_);
    fd_ = -1;
    return why;
  }
  EVP_DigestUpdate(hash_->ctx, data, n);
  received_ += n;
  return std::nullopt;
}

std::optional<std::string> FileCache::Upload::finish() {
  if (fd_ < 0) return std::string("the upload was already refused");
  if (!complete()) return fmt::format("only {} of {} bytes arrived", received_, size_);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(hash_->ctx, md, &len);
  std::string hex;
  for (unsigned i = 0; i < len; ++i) hex += fmt::format("{:02x}", md[i]);
  ::close(fd_);
  fd_ = -1;
  if (hex != sha256_) return fmt::format("the content hashes to {}, not the announced {}", hex, sha256_);
  std::error_code ec;
  fs::rename(partial_, cache_.path_of(sha256_), ec);
  if (ec) return "cannot move the file into the cache: " + ec.message();
  finished_ = true;
  return std::nullopt;
}

}  // namespace ktstr::cli
