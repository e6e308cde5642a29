#include <archive.h>
#include <archive_entry.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <random>

#include "kvm/guest_kernel/image_error.hpp"
#include "kvm/guest_kernel/kernel_payload.hpp"
#include "tests/support/fake_bzimage.hpp"

using namespace ktstr;
using guest_kernel::ImageError;

namespace {

/// An ELF-looking payload: the magic, then compressible but not trivial bytes.
std::vector<uint8_t> elf_like_payload(size_t size) {
  std::vector<uint8_t> b(size);
  std::mt19937 rng(7);
  for (size_t i = 0; i < size; ++i) b[i] = static_cast<uint8_t>((rng() % 16) + (i / 4096));
  std::memcpy(b.data(), "\x7f" "ELF", 4);
  return b;
}

/// `data` compressed by libarchive's write filter `filter` (raw format: one stream).
std::vector<uint8_t> compress(const std::vector<uint8_t>& data, const std::string& filter) {
  archive* a = archive_write_new();
  REQUIRE(archive_write_add_filter_by_name(a, filter.c_str()) == ARCHIVE_OK);
  REQUIRE(archive_write_set_format_raw(a) == ARCHIVE_OK);
  REQUIRE(archive_write_set_bytes_in_last_block(a, 1) == ARCHIVE_OK);
  std::vector<uint8_t> out(data.size() * 2 + 65536);
  size_t used = 0;
  REQUIRE(archive_write_open_memory(a, out.data(), out.size(), &used) == ARCHIVE_OK);
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, "vmlinux.bin");
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
  REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
  REQUIRE(archive_write_data(a, data.data(), data.size()) == static_cast<la_ssize_t>(data.size()));
  archive_entry_free(e);
  REQUIRE(archive_write_close(a) == ARCHIVE_OK);
  archive_write_free(a);
  out.resize(used);
  return out;
}

/// As scripts/Makefile.lib's size_append: the uncompressed size, 4 bytes LE.
void append_size(std::vector<uint8_t>& compressed, size_t size) {
  const uint32_t v = static_cast<uint32_t>(size);
  const auto* p = reinterpret_cast<const uint8_t*>(&v);
  compressed.insert(compressed.end(), p, p + 4);
}

/// A fake bzImage whose header points payload_offset/payload_length at `payload`.
kvm::BzImage bzimage_with(const std::vector<uint8_t>& payload, uint32_t stated_length = 0) {
  constexpr size_t kPayloadOffset = 0x400;
  test::FakeBzImageSpec spec;
  spec.kernel_bytes = kPayloadOffset + payload.size();
  auto bytes = test::fake_bzimage(spec);
  const size_t kernel = (spec.setup_sects + 1) * 512;
  const uint32_t offset = kPayloadOffset, length = stated_length ? stated_length : static_cast<uint32_t>(payload.size());
  std::memcpy(&bytes[0x248], &offset, 4);
  std::memcpy(&bytes[0x24c], &length, 4);
  std::memcpy(&bytes[kernel + kPayloadOffset], payload.data(), payload.size());
  return kvm::BzImage::parse(std::move(bytes), "fake");
}

}  // namespace

TEST_CASE("payload: every kernel codec decompresses back to the original bytes, size trailer or not", "[guest_kernel][payload]") {
  const auto original = elf_like_payload(300 * 1024);
  // The kernel appends the size to every codec but gzip (scripts/Makefile.lib).
  for (const std::string codec : {"gzip", "xz", "zstd", "lz4", "bzip2", "lzma"}) {
    DYNAMIC_SECTION(codec) {
      auto compressed = compress(original, codec);
      if (codec != "gzip") append_size(compressed, original.size());
      const auto payload = guest_kernel::extract_payload(bzimage_with(compressed));
      CHECK(payload.codec == codec);
      CHECK(payload.compressed_size == compressed.size());
      CHECK(payload.bytes == original);
    }
  }
}

TEST_CASE("payload: truncated, garbage and oversized payloads are errors naming the reason", "[guest_kernel][payload]") {
  const auto original = elf_like_payload(300 * 1024);
  for (const std::string codec : {"gzip", "xz", "zstd", "lz4", "bzip2", "lzma"}) {
    DYNAMIC_SECTION(codec << " cut in half") {
      auto compressed = compress(original, codec);
      compressed.resize(compressed.size() / 2);
      CHECK_THROWS_AS(guest_kernel::decompress_payload(compressed), ImageError);
    }
    DYNAMIC_SECTION(codec << " with its middle overwritten") {
      auto compressed = compress(original, codec);
      if (codec != "gzip") append_size(compressed, original.size());
      for (size_t i = compressed.size() / 3; i < compressed.size() / 3 + 64; ++i) compressed[i] ^= 0x5a;
      try {
        const auto p = guest_kernel::decompress_payload(compressed);
        CHECK(p.bytes != original);  // a codec without a checksum may decode the damage
      } catch (const ImageError& e) {
        CHECK(std::string(e.what()).find(codec) != std::string::npos);
      }
    }
    DYNAMIC_SECTION(codec << " larger than the bound") {
      const auto compressed = compress(original, codec);
      CHECK_THROWS_WITH(guest_kernel::decompress_payload(compressed, 64 * 1024), Catch::Contains("more than 65536 bytes"));
    }
  }
  SECTION("random bytes are no known codec") {
    std::vector<uint8_t> garbage(4096);
    std::mt19937 rng(1);
    for (auto& b : garbage) b = static_cast<uint8_t>(rng());
    garbage[0] = 0x42;
    CHECK_THROWS_WITH(guest_kernel::decompress_payload(garbage), Catch::Contains("no known compression"));
  }
  SECTION("a payload_length past the end of the file") {
    const auto compressed = compress(original, "gzip");
    CHECK_THROWS_WITH(guest_kernel::extract_payload(bzimage_with(compressed, static_cast<uint32_t>(compressed.size() + 100))),
                      Catch::Contains("payload outside the image"));
  }
  SECTION("a payload_length shorter than the stream") {
    const auto compressed = compress(original, "xz");
    CHECK_THROWS_AS(guest_kernel::extract_payload(bzimage_with(compressed, static_cast<uint32_t>(compressed.size() - 40))),
                    ImageError);
  }
}
