#include "kvm/guest_kernel/kernel_payload.hpp"

#include <archive.h>

#include <cstring>
#include <memory>

#include "kvm/guest_kernel/image_error.hpp"

namespace ktstr::guest_kernel {
namespace {

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};

std::string archive_message(archive* a) {
  const char* s = archive_error_string(a);
  return s ? s : "unknown libarchive error";
}

uint32_t size_trailer(std::span<const uint8_t> compressed) {
  uint32_t v = 0;
  if (compressed.size() >= 4) std::memcpy(&v, compressed.data() + compressed.size() - 4, 4);
  return v;
}

}  // namespace

std::span<const uint8_t> compressed_payload(const kvm::BzImage& image) {
  const auto& h = image.header();
  const uint64_t offset = h.payload_offset, length = h.payload_length;
  if (length == 0) throw ImageError("no compressed payload: the setup header's payload_length is 0");
  if (offset > image.kernel_size() || length > image.kernel_size() - offset)
    throw ImageError("payload outside the image: offset " + std::to_string(offset) + " + length " +
                     std::to_string(length) + " > " + std::to_string(image.kernel_size()) + " bytes");
  return {image.kernel() + offset, static_cast<size_t>(length)};
}

namespace {

struct Stream {
  std::string codec;
  std::vector<uint8_t> bytes;
  std::string failure;  ///< libarchive's complaint, if the stream did not end cleanly
};

Stream decompress_stream(std::span<const uint8_t> compressed, size_t max_bytes) {
  std::unique_ptr<archive, ArchiveDeleter> a(archive_read_new());
  if (!a) throw ImageError("payload: libarchive could not start");
  archive_read_support_filter_all(a.get());
  archive_read_support_format_raw(a.get());
  if (archive_read_open_memory(a.get(), compressed.data(), compressed.size()) != ARCHIVE_OK)
    throw ImageError("payload not readable: " + archive_message(a.get()));
  // The raw format accepts anything; no filter in front of it means no known codec.
  if (archive_filter_count(a.get()) < 2 || archive_filter_code(a.get(), 0) == ARCHIVE_FILTER_NONE)
    throw ImageError("payload has no known compression (gzip, xz, zstd, lz4, bzip2, lzma)");
  Stream out;
  out.codec = archive_filter_name(a.get(), 0);
  archive_entry* entry = nullptr;
  if (archive_read_next_header(a.get(), &entry) != ARCHIVE_OK) {
    out.failure = archive_message(a.get());
    return out;
  }
  std::vector<uint8_t> buffer(1 << 20);
  for (;;) {
    const la_ssize_t n = archive_read_data(a.get(), buffer.data(), buffer.size());
    if (n == 0) break;
    if (n < 0) {
      out.failure = archive_message(a.get());
      break;
    }
    if (out.bytes.size() + static_cast<size_t>(n) > max_bytes)
      throw ImageError(out.codec + " payload decompresses to more than " + std::to_string(max_bytes) + " bytes");
    out.bytes.insert(out.bytes.end(), buffer.begin(), buffer.begin() + n);
  }
  return out;
}

}  // namespace

KernelPayload decompress_payload(std::span<const uint8_t> compressed, size_t max_bytes) {
  Stream s = decompress_stream(compressed, max_bytes);
  const uint32_t trailer = size_trailer(compressed);
  auto complete = [&](const Stream& x) { return !x.bytes.empty() && static_cast<uint32_t>(x.bytes.size()) == trailer; };
  // xz and zstd refuse the size trailer as garbage after the stream: read without it,
  // and believe the result only if it is exactly as long as the trailer says.
  if (!s.failure.empty() && !complete(s) && compressed.size() > 4) {
    Stream trimmed = decompress_stream(compressed.first(compressed.size() - 4), max_bytes);
    if (complete(trimmed)) s = std::move(trimmed);
  }
  if (!s.failure.empty() && !complete(s))
    throw ImageError(s.codec + " payload corrupt or truncated after " + std::to_string(s.bytes.size()) + " bytes: " + s.failure);
  if (s.bytes.empty()) throw ImageError(s.codec + " payload decompresses to nothing");
  KernelPayload out;
  out.codec = std::move(s.codec);
  out.compressed_size = compressed.size();
  out.bytes = std::move(s.bytes);
  return out;
}

KernelPayload extract_payload(const kvm::BzImage& image, size_t max_bytes) {
  return decompress_payload(compressed_payload(image), max_bytes);
}

}  // namespace ktstr::guest_kernel
