#include "kvm/acpi_aml.hpp"

#include "kvm/error.hpp"

namespace ktstr::kvm::acpi {

namespace {

constexpr uint8_t kZeroOp = 0x00;
constexpr uint8_t kOneOp = 0x01;
constexpr uint8_t kNameOp = 0x08;
constexpr uint8_t kBytePrefix = 0x0a;
constexpr uint8_t kWordPrefix = 0x0b;
constexpr uint8_t kDWordPrefix = 0x0c;
constexpr uint8_t kQWordPrefix = 0x0e;
constexpr uint8_t kPackageOp = 0x12;
constexpr uint8_t kBufferOp = 0x11;
constexpr uint8_t kScopeOp = 0x10;
constexpr uint8_t kExtOpPrefix = 0x5b;
constexpr uint8_t kDeviceOp = 0x82;
constexpr uint8_t kRootChar = 0x5c;
// Small resource descriptors (ACPI 6.x, 6.4.2).
constexpr uint8_t kIoDescriptor = 0x47;     // 7 bytes follow
constexpr uint8_t kIoDecode16 = 0x01;
constexpr uint8_t kIrqDescriptor = 0x22;    // 2 bytes follow: IRQ mask
constexpr uint8_t kEndTag = 0x79;           // 1 byte follows: checksum (0 = not checked)

void append(std::vector<uint8_t>& out, const std::vector<uint8_t>& more) { out.insert(out.end(), more.begin(), more.end()); }

bool is_lead_name_char(char c) { return (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_lead_name_char(c) || (c >= '0' && c <= '9'); }

std::vector<uint8_t> name_seg(std::string_view name) {
  if (name.empty() || name.size() > 4 || !is_lead_name_char(name[0]))
    throw Error(ErrorKind::system, "invalid AML name '" + std::string(name) + "'");
  for (char c : name)
    if (!is_name_char(c)) throw Error(ErrorKind::system, "invalid AML name '" + std::string(name) + "'");
  std::vector<uint8_t> out;
  for (size_t i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(i < name.size() ? name[i] : '_'));
  return out;
}

/// op [ext] PkgLength name contents
std::vector<uint8_t> named_block(std::vector<uint8_t> op, std::vector<uint8_t> name,
                                 const std::vector<uint8_t>& contents) {
  std::vector<uint8_t> body = std::move(name);
  append(body, contents);
  append(op, aml_pkg_length(body.size()));
  append(op, body);
  return op;
}

}  // namespace

std::vector<uint8_t> aml_pkg_length(size_t content) {
  // One byte holds 6 bits of length; with 1-3 follow-on bytes the lead byte keeps 4
  // bits and each follow-on byte adds 8.
  for (size_t extra = 0; extra <= 3; ++extra) {
    const size_t total = content + 1 + extra;
    const size_t limit = extra == 0 ? 1u << 6 : size_t{1} << (4 + 8 * extra);
    if (total >= limit) continue;
    if (extra == 0) return {static_cast<uint8_t>(total)};
    std::vector<uint8_t> out{static_cast<uint8_t>((extra << 6) | (total & 0xf))};
    for (size_t i = 0; i < extra; ++i) out.push_back(static_cast<uint8_t>(total >> (4 + 8 * i)));
    return out;
  }
  throw Error(ErrorKind::system, "AML package of " + std::to_string(content) + " bytes is too large");
}

std::vector<uint8_t> aml_integer(uint64_t value) {
  if (value == 0) return {kZeroOp};
  if (value == 1) return {kOneOp};
  auto prefixed = [&](uint8_t prefix, int bytes) {
    std::vector<uint8_t> out{prefix};
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
    return out;
  };
  if (value <= 0xff) return prefixed(kBytePrefix, 1);
  if (value <= 0xffff) return prefixed(kWordPrefix, 2);
  if (value <= 0xffffffff) return prefixed(kDWordPrefix, 4);
  return prefixed(kQWordPrefix, 8);
}

std::vector<uint8_t> aml_name_package(std::string_view name, const std::vector<uint64_t>& values) {
  const auto seg = name_seg(name);
  if (values.size() > 0xff) throw Error(ErrorKind::system, "AML package with more than 255 elements");

  std::vector<uint8_t> contents{static_cast<uint8_t>(values.size())};  // NumElements
  for (uint64_t v : values) append(contents, aml_integer(v));

  std::vector<uint8_t> out{kNameOp};
  append(out, seg);
  out.push_back(kPackageOp);
  append(out, aml_pkg_length(contents.size()));
  append(out, contents);
  return out;
}

std::vector<uint8_t> aml_name_integer(std::string_view name, uint64_t value) {
  std::vector<uint8_t> out{kNameOp};
  append(out, name_seg(name));
  append(out, aml_integer(value));
  return out;
}

std::vector<uint8_t> aml_name_eisaid(std::string_view name, std::string_view eisaid) {
  auto hex = [&](char c) -> uint32_t {
    if (c >= '0' && c <= '9') return static_cast<uint32_t>(c - '0');
    if (c >= 'A' && c <= 'F') return static_cast<uint32_t>(c - 'A' + 10);
    throw Error(ErrorKind::system, "invalid EISA id '" + std::string(eisaid) + "'");
  };
  if (eisaid.size() != 7) throw Error(ErrorKind::system, "invalid EISA id '" + std::string(eisaid) + "'");
  uint32_t vendor = 0;  // three letters, 5 bits each ('A' = 1)
  for (int i = 0; i < 3; ++i) {
    if (eisaid[i] < 'A' || eisaid[i] > 'Z') throw Error(ErrorKind::system, "invalid EISA id '" + std::string(eisaid) + "'");
    vendor = (vendor << 5) | static_cast<uint32_t>(eisaid[i] - 'A' + 1);
  }
  uint32_t product = 0;
  for (int i = 3; i < 7; ++i) product = (product << 4) | hex(eisaid[i]);
  // Stored big-endian: vendor high byte, vendor low byte, product high, product low.
  const uint32_t value = ((vendor >> 8) & 0xff) | ((vendor & 0xff) << 8) | (((product >> 8) & 0xff) << 16) |
                         ((product & 0xff) << 24);
  std::vector<uint8_t> out{kNameOp};
  append(out, name_seg(name));
  out.push_back(kDWordPrefix);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
  return out;
}

std::vector<uint8_t> aml_name_io_irq_resources(std::string_view name, uint16_t port, uint8_t count, uint8_t irq) {
  if (irq > 15) throw Error(ErrorKind::system, "IRQNoFlags takes ISA IRQs 0-15, not " + std::to_string(irq));
  const auto lo = static_cast<uint8_t>(port & 0xff), hi = static_cast<uint8_t>(port >> 8);
  const uint16_t mask = static_cast<uint16_t>(1u << irq);
  const std::vector<uint8_t> resources = {kIoDescriptor, kIoDecode16, lo, hi, lo, hi, 1, count,
                                          kIrqDescriptor, static_cast<uint8_t>(mask & 0xff),
                                          static_cast<uint8_t>(mask >> 8), kEndTag, 0};
  std::vector<uint8_t> buffer = aml_integer(resources.size());  // BufferSize
  append(buffer, resources);
  std::vector<uint8_t> out{kNameOp};
  append(out, name_seg(name));
  out.push_back(kBufferOp);
  append(out, aml_pkg_length(buffer.size()));
  append(out, buffer);
  return out;
}

std::vector<uint8_t> aml_device(std::string_view name, const std::vector<uint8_t>& contents) {
  return named_block({kExtOpPrefix, kDeviceOp}, name_seg(name), contents);
}

std::vector<uint8_t> aml_root_scope(std::string_view name, const std::vector<uint8_t>& contents) {
  auto path = name_seg(name);
  path.insert(path.begin(), kRootChar);
  return named_block({kScopeOp}, std::move(path), contents);
}

}  // namespace ktstr::kvm::acpi
