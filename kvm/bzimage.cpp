#include "kvm/bzimage.hpp"

#include <cstring>
#include <fstream>
#include <iterator>

#include "kvm/error.hpp"

namespace ktstr::kvm {

namespace {

constexpr size_t kHeaderOffset = 0x1F1;
constexpr uint32_t kHdrS = 0x53726448;  // "HdrS" little-endian
constexpr uint16_t kBootFlag = 0xAA55;
constexpr uint16_t kXlfKernel64 = 1 << 0;
constexpr uint8_t kLoadedHigh = 1 << 0;

std::string hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%x", v);
  return buf;
}

}  // namespace

BzImage BzImage::load(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw Error(ErrorKind::kernel_image, "kernel " + path.string() + " does not exist");
  if (!std::filesystem::is_regular_file(path, ec))
    throw Error(ErrorKind::kernel_image, "kernel " + path.string() + " is not a regular file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorKind::kernel_image, "kernel " + path.string() + " cannot be read");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse(std::move(bytes), path.string());
}

BzImage BzImage::parse(std::vector<uint8_t> bytes, const std::string& name) {
  BzImage image;
  const std::string not_bz = "kernel " + name + " is not a bzImage: ";
  // The header's own length is given by the jump at 0x200 (0x202 + its byte offset).
  if (bytes.size() < kHeaderOffset + sizeof(setup_header) + 512)
    throw Error(ErrorKind::kernel_image, not_bz + "file too small (" + std::to_string(bytes.size()) + " bytes)");
  std::memcpy(&image.header_, bytes.data() + kHeaderOffset, sizeof(setup_header));
  const auto& h = image.header_;
  if (h.boot_flag != kBootFlag) throw Error(ErrorKind::kernel_image, not_bz + "no 0xAA55 boot flag");
  if (h.header != kHdrS) throw Error(ErrorKind::kernel_image, not_bz + "no \"HdrS\" signature");
  if (h.version < kMinProtocol)
    throw Error(ErrorKind::boot_protocol, "kernel " + name + " uses boot protocol " + std::to_string(h.version >> 8) +
                                              "." + std::to_string(h.version & 0xff) + "; at least 2.06 is needed");
  if (!(h.loadflags & kLoadedHigh))
    throw Error(ErrorKind::boot_protocol, "kernel " + name + " is a zImage (not loaded high); only bzImage is supported");
  if (h.version < kMin64BitProtocol || !(h.xloadflags & kXlfKernel64))
    throw Error(ErrorKind::boot_protocol,
                "kernel " + name + " has no 64-bit entry point (protocol " + std::to_string(h.version >> 8) + "." +
                    std::to_string(h.version & 0xff) + ", xloadflags 0x" + hex(h.xloadflags) + ")");

  const size_t setup_sects = h.setup_sects ? h.setup_sects : 4;
  image.kernel_offset_ = (setup_sects + 1) * 512;
  if (image.kernel_offset_ + 0x200 >= bytes.size())
    throw Error(ErrorKind::kernel_image, not_bz + "setup_sects " + std::to_string(setup_sects) +
                                             " points past the end of the file");
  // 0x201 holds the jump's displacement; the header ends where the jump lands.
  const size_t header_end = 0x202 + bytes[0x201];
  image.header_size_ = std::min(header_end, kHeaderOffset + sizeof(setup_header)) - kHeaderOffset;
  image.bytes_ = std::move(bytes);
  return image;
}

}  // namespace ktstr::kvm
