#pragma once
// Kernel payloads made in a test: bytes compressed with libarchive's write filters (the
// codecs kernels use), the size trailer scripts/Makefile.lib appends, a fake bzImage
// around them, and a minimal ELF with chosen sections.
#include <archive.h>
#include <archive_entry.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "kvm/bzimage.hpp"
#include "tests/support/fake_bzimage.hpp"

namespace ktstr::test {

/// An ELF-looking payload: the magic, then compressible but not trivial bytes.
inline std::vector<uint8_t> elf_like_payload(size_t size) {
  std::vector<uint8_t> b(size);
  std::mt19937 rng(7);
  for (size_t i = 0; i < size; ++i) b[i] = static_cast<uint8_t>((rng() % 16) + (i / 4096));
  std::memcpy(b.data(), "\x7f" "ELF", 4);
  return b;
}

/// `data` compressed by libarchive's write filter `filter` (raw format: one stream).
inline std::vector<uint8_t> compress(const std::vector<uint8_t>& data, const std::string& filter) {
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
inline void append_size(std::vector<uint8_t>& compressed, size_t size) {
  const uint32_t v = static_cast<uint32_t>(size);
  const auto* p = reinterpret_cast<const uint8_t*>(&v);
  compressed.insert(compressed.end(), p, p + 4);
}

/// The bytes of a fake bzImage whose header points payload_offset/payload_length at `payload`.
inline std::vector<uint8_t> bzimage_bytes_with(const std::vector<uint8_t>& payload, uint32_t stated_length = 0) {
  constexpr size_t kPayloadOffset = 0x400;
  FakeBzImageSpec spec;
  spec.kernel_bytes = kPayloadOffset + payload.size();
  auto bytes = fake_bzimage(spec);
  const size_t kernel = (spec.setup_sects + 1) * 512;
  const uint32_t offset = kPayloadOffset, length = stated_length ? stated_length : static_cast<uint32_t>(payload.size());
  std::memcpy(&bytes[0x248], &offset, 4);
  std::memcpy(&bytes[0x24c], &length, 4);
  std::memcpy(&bytes[kernel + kPayloadOffset], payload.data(), payload.size());
  return bytes;
}

inline kvm::BzImage bzimage_with(const std::vector<uint8_t>& payload, uint32_t stated_length = 0) {
  return kvm::BzImage::parse(bzimage_bytes_with(payload, stated_length), "fake");
}

/// An ELF64 executable with no segments and the named sections (plus .shstrtab): just
/// enough for KernelElf to find sections by name.
inline std::vector<uint8_t> minimal_elf(const std::vector<std::pair<std::string, std::vector<uint8_t>>>& sections) {
  std::string names(1, '\0');
  std::vector<uint32_t> name_at;
  for (const auto& [name, bytes] : sections) {
    name_at.push_back(static_cast<uint32_t>(names.size()));
    names += name + '\0';
  }
  const uint32_t shstrtab_name = static_cast<uint32_t>(names.size());
  names += std::string(".shstrtab") + '\0';
  std::vector<uint8_t> out(64, 0);
  std::vector<std::pair<uint64_t, uint64_t>> placed;  // offset, size
  for (const auto& [name, bytes] : sections) {
    placed.emplace_back(out.size(), bytes.size());
    out.insert(out.end(), bytes.begin(), bytes.end());
  }
  const uint64_t names_offset = out.size();
  out.insert(out.end(), names.begin(), names.end());
  while (out.size() % 8) out.push_back(0);
  const uint64_t shoff = out.size();
  auto section_header = [&](uint32_t name, uint32_t type, uint64_t offset, uint64_t size) {
    uint8_t sh[64] = {};
    std::memcpy(sh + 0, &name, 4);
    std::memcpy(sh + 4, &type, 4);
    std::memcpy(sh + 24, &offset, 8);
    std::memcpy(sh + 32, &size, 8);
    out.insert(out.end(), sh, sh + 64);
  };
  section_header(0, 0, 0, 0);
  for (size_t i = 0; i < sections.size(); ++i) section_header(name_at[i], 1 /* PROGBITS */, placed[i].first, placed[i].second);
  section_header(shstrtab_name, 3 /* STRTAB */, names_offset, names.size());
  const uint16_t shnum = static_cast<uint16_t>(sections.size() + 2), shstrndx = shnum - 1;
  std::memcpy(out.data(), "\x7f" "ELF\x02\x01\x01", 7);  // ELF64, little-endian, version 1
  const uint16_t type = 2, machine = 62, ehsize = 64, shentsize = 64;  // EXEC, x86-64
  const uint32_t version = 1;
  std::memcpy(&out[16], &type, 2);
  std::memcpy(&out[18], &machine, 2);
  std::memcpy(&out[20], &version, 4);
  std::memcpy(&out[40], &shoff, 8);
  std::memcpy(&out[52], &ehsize, 2);
  std::memcpy(&out[58], &shentsize, 2);
  std::memcpy(&out[60], &shnum, 2);
  std::memcpy(&out[62], &shstrndx, 2);
  return out;
}

/// The smallest BTF libbpf accepts: a header, no types, the empty string.
inline std::vector<uint8_t> empty_btf() {
  std::vector<uint8_t> b(24 + 1, 0);
  const uint16_t magic = 0xeB9F;
  const uint32_t hdr_len = 24, str_len = 1;
  std::memcpy(&b[0], &magic, 2);
  b[2] = 1;  // version
  std::memcpy(&b[4], &hdr_len, 4);
  std::memcpy(&b[20], &str_len, 4);  // type_off 0, type_len 0, str_off 0
  return b;
}

}  // namespace ktstr::test
