// The worker's content-addressed cache: a file enters only whole and hashing to its name;
// a piece out of order, too big or past the size voids the upload; eviction spares pinned files.
#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "apps/cli/kernel/file_digest.hpp"
#include "apps/cli/remote/file_cache.hpp"
#include "apps/cli/remote/job_limits.hpp"
#include "tests/support/cli.hpp"

using namespace ktstr;
using namespace ktstr::cli;
namespace fs = std::filesystem;

namespace {

std::string sha_of(const std::string& text, const fs::path& dir) {
  const auto f = dir / "tmp-hash";
  std::ofstream(f, std::ios::binary) << text;
  return file_sha256(f).value();
}

}  // namespace

TEST_CASE("file cache: an upload in pieces enters the cache under its hash - a wrong hash never does", "[remote]") {
  const auto dir = test::scratch_dir("file-cache");
  FileCache cache(dir / "cache", 1 << 20);
  std::string content(2 * kChunkBytes + 17, 'k');
  for (size_t i = 0; i < content.size(); i += 4093) content[i] = static_cast<char>(i);
  const auto sha = sha_of(content, dir);
  CHECK_FALSE(cache.has(sha, content.size()));
  auto up = cache.begin(sha, content.size(), 1);
  for (size_t off = 0; off < content.size(); off += kChunkBytes) {
    const size_t n = std::min(kChunkBytes, content.size() - off);
    REQUIRE_FALSE(up->append(off, content.data() + off, n));
  }
  CHECK(up->complete());
  REQUIRE_FALSE(up->finish());
  CHECK(cache.has(sha, content.size()));
  CHECK(file_sha256(cache.path_of(sha)).value() == sha);

  // Announced as one thing, sent as another: refused, nothing cached, no partial file left.
  const std::string other = "not the announced content";
  const auto claimed = sha_of("something else", dir);
  {
    auto bad = cache.begin(claimed, other.size(), 2);
    REQUIRE_FALSE(bad->append(0, other.data(), other.size()));
    CHECK_THAT(bad->finish().value(), Catch::Contains("not the announced"));
  }
  CHECK_FALSE(cache.has(claimed, other.size()));
  CHECK(fs::is_empty(dir / "cache" / "partial"));
  fs::remove_all(dir);
}

TEST_CASE("file cache: pieces out of order, too big or past the announced size void the upload", "[remote]") {
  const auto dir = test::scratch_dir("file-cache-bad");
  FileCache cache(dir / "cache", 1 << 20);
  const std::string sha(64, 'e');
  std::vector<char> piece(100, 'x');
  {
    auto up = cache.begin(sha, 150, 1);
    CHECK_THAT(up->append(50, piece.data(), piece.size()).value(), Catch::Contains("offset 50 where 0"));
    CHECK(up->append(0, piece.data(), piece.size()).value() == "the upload was already refused");
  }
  {
    auto up = cache.begin(sha, 150, 2);
    REQUIRE_FALSE(up->append(0, piece.data(), piece.size()));
    CHECK_THAT(up->append(100, piece.data(), piece.size()).value(), Catch::Contains("more than the announced 150"));
  }
  {
    auto up = cache.begin(sha, kMaxJobFileBytes, 3);
    std::vector<char> big(kChunkBytes + 1, 'y');
    CHECK_THAT(up->append(0, big.data(), big.size()).value(), Catch::Contains("allowed"));
  }
  CHECK(fs::is_empty(dir / "cache" / "partial"));
  fs::remove_all(dir);
}

TEST_CASE("file cache: past its bound the least recently used files go, never a pinned one", "[remote]") {
  const auto dir = test::scratch_dir("file-cache-evict");
  FileCache cache(dir / "cache", 250);
  std::vector<std::string> shas;
  for (int i = 0; i < 3; ++i) {
    const std::string text(100, static_cast<char>('a' + i));
    const auto sha = sha_of(text, dir);
    auto up = cache.begin(sha, text.size(), static_cast<uint64_t>(i));
    REQUIRE_FALSE(up->append(0, text.data(), text.size()));
    REQUIRE_FALSE(up->finish());
    fs::last_write_time(cache.path_of(sha), fs::file_time_type::clock::now() - std::chrono::hours(10 - i));
    shas.push_back(sha);
  }
  cache.evict({shas[0]});  // the oldest is pinned: the next oldest goes
  CHECK(cache.has(shas[0], 100));
  CHECK_FALSE(cache.has(shas[1], 100));
  CHECK(cache.has(shas[2], 100));
  CHECK(cache.bytes() == 200);
  fs::remove_all(dir);
}
