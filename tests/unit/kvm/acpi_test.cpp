#include <algorithm>
#include <catch2/catch.hpp>

#include <cstring>
#include <map>
#include <string>

#include "kvm/acpi.hpp"
#include "kvm/acpi_aml.hpp"
#include "kvm/acpi_tables.hpp"
#include "kvm/error.hpp"
#include "kvm/layout.hpp"

using namespace ktstr::kvm;
using namespace ktstr::kvm::acpi;

namespace {

// Reads the tables back the way a guest would: from guest-physical addresses, through
// copies of the packed structs.
class GuestView {
 public:
  explicit GuestView(const AcpiTables& t) : t_(t) {}

  template <class T>
  T read(uint64_t address) const {
    const uint64_t offset = address - t_.guest_address;
    REQUIRE(address >= t_.guest_address);
    REQUIRE(offset + sizeof(T) <= t_.bytes.size());
    T value;
    std::memcpy(&value, t_.bytes.data() + offset, sizeof(T));
    return value;
  }

  uint8_t sum(uint64_t address, size_t length) const {
    REQUIRE(address - t_.guest_address + length <= t_.bytes.size());
    uint8_t s = 0;
    for (size_t i = 0; i < length; ++i) s = static_cast<uint8_t>(s + t_.bytes[address - t_.guest_address + i]);
    return s;
  }

  /// The header at `address`, after checking that the table fits and sums to zero.
  TableHeader table(uint64_t address, std::string_view signature) const {
    INFO("table " << signature);
    const auto h = read<TableHeader>(address);
    CHECK(std::string_view(h.signature, 4) == signature);
    REQUIRE(h.length >= sizeof(TableHeader));
    CHECK(sum(address, h.length) == 0);
    return h;
  }

  /// Signature -> address, from the XSDT the RSDP points at.
  std::map<std::string, uint64_t> xsdt_tables() const {
    const auto rsdp = read<Rsdp>(t_.rsdp_address);
    const auto h = table(rsdp.xsdt_address, "XSDT");
    REQUIRE((h.length - sizeof(TableHeader)) % 8 == 0);
    std::map<std::string, uint64_t> out;
    for (uint64_t at = rsdp.xsdt_address + sizeof(TableHeader); at < rsdp.xsdt_address + h.length; at += 8) {
      const auto address = read<uint64_t>(at);
      out[std::string(read<TableHeader>(address).signature, 4)] = address;
    }
    return out;
  }

  /// (type, address) of every subtable after a fixed part of `fixed` bytes.
  std::vector<std::pair<uint8_t, uint64_t>> subtables(uint64_t address, size_t fixed) const {
    const auto length = read<TableHeader>(address).length;
    std::vector<std::pair<uint8_t, uint64_t>> out;
    for (uint64_t at = address + fixed; at < address + length;) {
      const auto type = read<uint8_t>(at), size = read<uint8_t>(at + 1);
      REQUIRE(size >= 2);
      out.emplace_back(type, at);
      at += size;
      REQUIRE(at <= address + length);  // the last subtable ends exactly at the table's end
    }
    return out;
  }

 private:
  const AcpiTables& t_;
};

struct Machine {
  Topology topology;
  MemoryLayout memory;
  explicit Machine(TopologySpec spec, uint64_t mib = 4096)
      : topology(spec), memory(mib, spec.numa_nodes, Topology(spec).cpu_count()) {}
  AcpiTables tables() const { return build_acpi_tables(topology, memory.node_ranges()); }
};

const std::vector<TopologySpec> kTopologies = {{1, 1, 1, 1}, {1, 1, 2, 2}, {1, 2, 2, 1}, {2, 2, 2, 1}, {2, 4, 3, 2}};

}  // namespace

TEST_CASE("the RSDP is found by the kernel's 16-byte scan and both checksums hold") {
  const auto t = Machine({2, 4, 3, 2}).tables();
  GuestView g(t);
  CHECK(t.guest_address == layout::kAcpiBase);
  REQUIRE(t.bytes.size() <= layout::kAcpiSize);
  std::vector<uint64_t> found;
  for (uint64_t off = 0; off + sizeof(Rsdp) <= t.bytes.size(); off += 16)
    if (std::memcmp(t.bytes.data() + off, "RSD PTR ", 8) == 0 && g.sum(t.guest_address + off, 20) == 0)
      found.push_back(t.guest_address + off);
  CHECK(found == std::vector<uint64_t>{t.rsdp_address});
  const auto rsdp = g.read<Rsdp>(t.rsdp_address);
  CHECK(rsdp.revision == 2);
  CHECK(rsdp.length == sizeof(Rsdp));
  CHECK(g.sum(t.rsdp_address, rsdp.length) == 0);
}

TEST_CASE("XSDT and RSDT list FADT, MADT, SRAT and SLIT, all with valid checksums") {
  for (const auto& spec : kTopologies) {
    INFO("topology " << spec.to_string());
    const auto t = Machine(spec).tables();
    GuestView g(t);
    const auto tables = g.xsdt_tables();
    std::vector<std::string> names;
    for (const auto& [name, address] : tables) {
      names.push_back(name);
      g.table(address, name);
    }
    CHECK(names == std::vector<std::string>{"APIC", "FACP", "SLIT", "SRAT"});

    const auto rsdp = g.read<Rsdp>(t.rsdp_address);
    const auto rsdt = g.table(rsdp.rsdt_address, "RSDT");
    std::vector<uint64_t> from_rsdt;
    for (uint64_t at = rsdp.rsdt_address + sizeof(TableHeader); at < rsdp.rsdt_address + rsdt.length; at += 4)
      from_rsdt.push_back(g.read<uint32_t>(at));
    std::vector<uint64_t> from_xsdt;
    for (const auto& name : {"FACP", "APIC", "SRAT", "SLIT"}) from_xsdt.push_back(tables.at(name));
    CHECK(from_rsdt == from_xsdt);
  }
}

TEST_CASE("the FADT is hardware-reduced, without an 8042, with I/O-port sleep registers and X_DSDT") {
  const auto t = Machine({1, 1, 2, 1}).tables();
  GuestView g(t);
  const auto address = g.xsdt_tables().at("FACP");
  const auto h = g.table(address, "FACP");
  CHECK(h.revision == 6);
  CHECK(h.length == sizeof(Fadt));
  const auto f = g.read<Fadt>(address);
  CHECK(f.flags & kFadtHwReducedAcpi);
  const uint16_t boot_arch = f.iapc_boot_arch;  // a copy: Catch binds by reference, the field is packed
  CHECK_FALSE(boot_arch & kBootArch8042);
  CHECK_FALSE(boot_arch & kBootArchLegacyDevices);
  for (const auto& [reg, port] : {std::pair{f.sleep_control_reg, layout::kSleepControl},
                                  std::pair{f.sleep_status_reg, layout::kSleepStatus}}) {
    CHECK(reg.space_id == kSpaceSystemIo);
    CHECK(reg.bit_width == 8);
    CHECK(reg.bit_offset == 0);
    CHECK(reg.access_size == kAccessByte);
    CHECK(reg.address == port);
  }
  CHECK(f.x_firmware_ctrl == 0);  // no FACS on hardware-reduced ACPI
  CHECK(f.sci_int == 0);
  g.table(f.x_dsdt, "DSDT");
}

TEST_CASE("the DSDT holds Name(_S5, Package(){kS5SleepType, 0, 0, 0}) in AML") {
  const auto t = Machine({1, 1, 2, 1}).tables();
  GuestView g(t);
  const auto dsdt = g.read<Fadt>(g.xsdt_tables().at("FACP")).x_dsdt;
  const auto h = g.table(dsdt, "DSDT");
  const std::vector<uint8_t> s5 = {0x08, '_', 'S', '5', '_', 0x12, 0x07, 0x04, 0x0a, layout::kS5SleepType, 0x00, 0x00, 0x00};
  const auto* body = t.bytes.data() + (dsdt - t.guest_address) + sizeof(TableHeader);
  const std::vector<uint8_t> aml(body, body + h.length - sizeof(TableHeader));
  CHECK(std::search(aml.begin(), aml.end(), s5.begin(), s5.end()) == aml.begin());
  // COM2 as a PNP0501 device with I/O 0x2F8-0x2FF and IRQ 3 (mask bit 3).
  const std::vector<uint8_t> com2_crs = {0x47, 0x01, 0xF8, 0x02, 0xF8, 0x02, 0x01, 0x08, 0x22, 0x08, 0x00, 0x79, 0x00};
  CHECK(std::search(aml.begin(), aml.end(), com2_crs.begin(), com2_crs.end()) != aml.end());
  const std::vector<uint8_t> pnp0501 = {0x08, '_', 'H', 'I', 'D', 0x0C, 0x41, 0xD0, 0x05, 0x01};
  CHECK(std::search(aml.begin(), aml.end(), pnp0501.begin(), pnp0501.end()) != aml.end());
  const std::vector<uint8_t> device_com1 = {0x5B, 0x82};
  CHECK(std::search(aml.begin(), aml.end(), device_com1.begin(), device_com1.end()) != aml.end());
}

TEST_CASE("the MADT has one enabled local APIC per CPU in CPU order, the IOAPIC, IRQ0 override and LINT1 NMI") {
  for (const auto& spec : kTopologies) {
    INFO("topology " << spec.to_string());
    const Machine m(spec);
    const auto t = m.tables();
    GuestView g(t);
    const auto address = g.xsdt_tables().at("APIC");
    const auto madt = g.read<Madt>(address);
    CHECK(madt.local_apic_address == layout::kLapic);
    CHECK(madt.flags == kMadtPcatCompat);
    std::vector<MadtLocalApic> lapics;
    std::vector<MadtIoApic> ioapics;
    std::vector<MadtInterruptOverride> overrides;
    std::vector<MadtLocalApicNmi> nmis;
    for (const auto& [type, at] : g.subtables(address, sizeof(Madt))) {
      switch (type) {
        case 0: lapics.push_back(g.read<MadtLocalApic>(at)); CHECK(lapics.back().length == 8); break;
        case 1: ioapics.push_back(g.read<MadtIoApic>(at)); CHECK(ioapics.back().length == 12); break;
        case 2: overrides.push_back(g.read<MadtInterruptOverride>(at)); CHECK(overrides.back().length == 10); break;
        case 4: nmis.push_back(g.read<MadtLocalApicNmi>(at)); CHECK(nmis.back().length == 6); break;
        default: FAIL("unexpected MADT subtable type " << int(type));
      }
    }
    REQUIRE(lapics.size() == m.topology.cpu_count());
    for (uint32_t c = 0; c < lapics.size(); ++c) {
      CHECK(lapics[c].processor_uid == c);
      CHECK(lapics[c].apic_id == m.topology.cpu(c).apic_id);
      CHECK(lapics[c].flags == kMadtLocalApicEnabled);
    }
    REQUIRE(ioapics.size() == 1);
    CHECK(ioapics[0].address == layout::kIoapic);
    CHECK(ioapics[0].gsi_base == 0);
    REQUIRE(overrides.size() == 1);
    CHECK(overrides[0].bus == 0);
    CHECK(overrides[0].source == 0);
    CHECK(overrides[0].gsi == 2);
    REQUIRE(nmis.size() == 1);
    CHECK(nmis[0].processor_uid == kAllProcessors);
    CHECK(nmis[0].lint == 1);
  }
}

TEST_CASE("the SRAT puts every CPU and every RAM range in its node") {
  for (const auto& spec : kTopologies) {
    INFO("topology " << spec.to_string());
    const Machine m(spec, 6144);  // node ranges on both sides of the MMIO hole
    const auto t = m.tables();
    GuestView g(t);
    const auto address = g.xsdt_tables().at("SRAT");
    CHECK(g.table(address, "SRAT").revision == 3);
    CHECK(g.read<Srat>(address).reserved1 == 1);
    std::vector<SratProcessorAffinity> cpus;
    std::vector<SratMemoryAffinity> ranges;
    for (const auto& [type, at] : g.subtables(address, sizeof(Srat))) {
      if (type == 0) cpus.push_back(g.read<SratProcessorAffinity>(at));
      else if (type == 1) ranges.push_back(g.read<SratMemoryAffinity>(at));
      else FAIL("unexpected SRAT subtable type " << int(type));
    }
    REQUIRE(cpus.size() == m.topology.cpu_count());
    for (uint32_t c = 0; c < cpus.size(); ++c) {
      const auto& a = cpus[c];
      const uint32_t domain = a.proximity_domain_lo | (a.proximity_domain_hi[0] << 8) |
                              (a.proximity_domain_hi[1] << 16) | (uint32_t(a.proximity_domain_hi[2]) << 24);
      CHECK(a.apic_id == m.topology.cpu(c).apic_id);
      CHECK(domain == m.topology.cpu(c).node);
      CHECK(a.flags == kSratEnabled);
    }
    const auto& expected = m.memory.node_ranges();
    REQUIRE(ranges.size() == expected.size());
    for (size_t i = 0; i < ranges.size(); ++i) {
      const uint32_t domain_of_range = ranges[i].proximity_domain;  // a copy of a packed field (see the FADT test)
      CHECK(domain_of_range == expected[i].node);
      CHECK((uint64_t(ranges[i].base_hi) << 32 | ranges[i].base_lo) == expected[i].base);
      CHECK((uint64_t(ranges[i].length_hi) << 32 | ranges[i].length_lo) == expected[i].size);
      CHECK(ranges[i].flags == kSratEnabled);
    }
  }
}

TEST_CASE("the SLIT is 10 on the diagonal and 20 elsewhere") {
  for (uint32_t nodes : {1u, 2u, 4u}) {
    const Machine m({nodes, nodes, 2, 1});
    const auto t = m.tables();
    GuestView g(t);
    const auto address = g.xsdt_tables().at("SLIT");
    const auto h = g.table(address, "SLIT");
    CHECK(g.read<Slit>(address).localities == nodes);
    REQUIRE(h.length == sizeof(Slit) + nodes * nodes);
    for (uint32_t i = 0; i < nodes; ++i)
      for (uint32_t j = 0; j < nodes; ++j)
        CHECK(g.read<uint8_t>(address + sizeof(Slit) + i * nodes + j) == (i == j ? kLocalDistance : kRemoteDistance));
  }
}

TEST_CASE("tables that do not fit the ACPI area are refused") {
  const Topology topology({1, 1, 2, 1});
  std::vector<MemoryRange> ranges(layout::kAcpiSize / sizeof(SratMemoryAffinity) + 1, MemoryRange{0, 1 << 20, 0});
  try {
    build_acpi_tables(topology, ranges);
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::system);
  }
}

TEST_CASE("a memory range for a node the topology lacks is refused") {
  CHECK_THROWS_AS(build_acpi_tables(Topology({1, 1, 2, 1}), {MemoryRange{0, 1 << 30, 1}}), Error);
}

TEST_CASE("the largest topology fits") {
  const auto t = Machine({2, 8, 8, 2}).tables();
  CHECK(t.bytes.size() <= layout::kAcpiSize);
  GuestView g(t);
  CHECK(g.subtables(g.xsdt_tables().at("APIC"), sizeof(Madt)).size() == 128 + 3);
}

TEST_CASE("AML package lengths use 1 to 4 bytes and count themselves") {
  CHECK(aml_pkg_length(6) == std::vector<uint8_t>{7});
  CHECK(aml_pkg_length(62) == std::vector<uint8_t>{63});
  CHECK(aml_pkg_length(63) == std::vector<uint8_t>{0x41, 0x04});     // 65 = 0x041
  CHECK(aml_pkg_length(4093) == std::vector<uint8_t>{0x4f, 0xff});   // 4095
  CHECK(aml_pkg_length(4094) == std::vector<uint8_t>{0x81, 0x00, 0x01});  // 4097 = 0x1001
  CHECK(aml_integer(0) == std::vector<uint8_t>{0x00});
  CHECK(aml_integer(1) == std::vector<uint8_t>{0x01});
  CHECK(aml_integer(0x1234) == std::vector<uint8_t>{0x0b, 0x34, 0x12});
  CHECK_THROWS_AS(aml_name_package("5S", {}), Error);
  CHECK_THROWS_AS(aml_name_package("_S5XY", {}), Error);
}
