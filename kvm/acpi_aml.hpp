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

/// Name(name, integer).
std::vector<uint8_t> aml_name_integer(std::string_view name, uint64_t value);

/// Name(name, EISAID("ABC1234")): the compressed PnP id, e.g. PNP0501 for a 16550.
std::vector<uint8_t> aml_name_eisaid(std::string_view name, std::string_view eisaid);

/// Name(name, ResourceTemplate(){ IO(Decode16, port, port, 1, count) IRQNoFlags(){irq} }).
std::vector<uint8_t> aml_name_io_irq_resources(std::string_view name, uint16_t port, uint8_t count, uint8_t irq);

/// Device(name){ contents }.
std::vector<uint8_t> aml_device(std::string_view name, const std::vector<uint8_t>& contents);

/// Scope(\name){ contents }, for a root-level scope such as \_SB_.
std::vector<uint8_t> aml_root_scope(std::string_view name, const std::vector<uint8_t>& contents);

}  // namespace ktstr::kvm::acpi
