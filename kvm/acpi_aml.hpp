#pragma once
// The little AML our DSDT needs, encoded by hand (ACPI 6.x, chapter 20): no AML
// compiler at build time, and the bytes are few enough to check in a test.
#include <cstdint>
#include <string_view>
#include <vector>

namespace ktstr::kvm::acpi {

/// PkgLength for a package whose contents after the PkgLength are `content` bytes
/// (the encoded length counts its own bytes too). Throws Error{system} past 2^28.
std::vector<uint8_t> aml_pkg_length(size_t content);

/// An integer as the shortest AML data object: ZeroOp, OneOp or a prefixed constant.
std::vector<uint8_t> aml_integer(uint64_t value);

/// `Name(name, Package() {values...})` in the current scope; `name` is a 1-4 character
/// NameSeg, padded with '_' as ASL does ("_S5" -> "_S5_").
std::vector<uint8_t> aml_name_package(std::string_view name, const std::vector<uint64_t>& values);

}  // namespace ktstr::kvm::acpi
