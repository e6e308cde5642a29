#pragma once
// The compressed kernel inside a bzImage (vmlinux.bin + vmlinux.relocs), decompressed on
// the host with libarchive: gzip, xz, zstd, lz4, bzip2 or lzma, whichever the build chose.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "kvm/bzimage.hpp"

namespace ktstr::guest_kernel {

/// Decompressed kernels are ~40-70 MiB; anything past this is not a kernel.
inline constexpr size_t kMaxPayloadBytes = size_t{1} << 30;

struct KernelPayload {
  std::string codec;            ///< libarchive's filter name: "gzip", "xz", "zstd", "lz4", "bzip2", "lzma"
  size_t compressed_size = 0;
  std::vector<uint8_t> bytes;   ///< the ELF vmlinux.bin, then the relocations
};

/// The payload bytes of `image` as the setup header locates them (payload_offset and
/// payload_length, relative to the protected-mode kernel); throws ImageError when they
/// lie outside the file.
std::span<const uint8_t> compressed_payload(const kvm::BzImage& image);

/// Decompresses one kernel payload; throws ImageError for an unknown codec, garbage,
/// truncation or output over `max_bytes`. xz, zstd, lz4, bzip2 and lzma payloads end with
/// the uncompressed size (4 bytes LE, scripts/Makefile.lib size_append): trailing bytes
/// libarchive complains about are accepted when that size matches what came out.
KernelPayload decompress_payload(std::span<const uint8_t> compressed, size_t max_bytes = kMaxPayloadBytes);

/// compressed_payload + decompress_payload.
KernelPayload extract_payload(const kvm::BzImage& image, size_t max_bytes = kMaxPayloadBytes);

}  // namespace ktstr::guest_kernel
