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

void append(std::vector<uint8_t>& out, const std::vector<uint8_t>& more) { out.insert(out.end(), more.begin(), more.end()); }

bool is_lead_name_char(char c) { return (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_lead_name_char(c) || (c >= '0' && c <= '9'); }

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
  if (name.empty() || name.size() > 4 || !is_lead_name_char(name[0]))
    throw Error(ErrorKind::system, "invalid AML name '" + std::string(name) + "'");
  for (char c : name)
    if (!is_name_char(c)) throw Error(ErrorKind::system, "invalid AML name '" + std::string(name) + "'");
  if (values.size() > 0xff) throw Error(ErrorKind::system, "AML package with more than 255 elements");

  std::vector<uint8_t> contents{static_cast<uint8_t>(values.size())};  // NumElements
  for (uint64_t v : values) append(contents, aml_integer(v));

  std::vector<uint8_t> out{kNameOp};
  for (size_t i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(i < name.size() ? name[i] : '_'));
  out.push_back(kPackageOp);
  append(out, aml_pkg_length(contents.size()));
  append(out, contents);
  return out;
}

}  // namespace ktstr::kvm::acpi
