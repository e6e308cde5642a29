#include <catch2/catch.hpp>
#include <cstring>
#include <random>

#include "kvm/guest_kernel/image_error.hpp"
#include "kvm/guest_kernel/kernel_payload.hpp"
#include "tests/unit/guest_kernel/fake_payload.hpp"

using namespace ktstr;
using guest_kernel::ImageError;
using test::append_size;
using test::bzimage_with;
using test::compress;
using test::elf_like_payload;


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
