#include "kvm/acpi.hpp"

#include <cstddef>
#include <cstring>
#include <string_view>
#include <type_traits>

#include "kvm/acpi_aml.hpp"
#include "kvm/acpi_tables.hpp"
#include "kvm/error.hpp"
#include "kvm/layout.hpp"

namespace ktstr::kvm {

namespace {

using namespace acpi;

constexpr std::string_view kOemId = "KTSTR ";
constexpr std::string_view kOemTableId = "KTSTRVM ";
constexpr std::string_view kCreatorId = "KTSR";
constexpr uint64_t kTableAlignment = 16;  // the RSDP must sit on a 16-byte boundary; the rest follow suit

// The RSDT holds 32-bit table addresses.
static_assert(layout::kAcpiBase + layout::kAcpiSize <= uint64_t{1} << 32);

template <class T>
void put(std::vector<uint8_t>& out, const T& value) {
  static_assert(std::is_trivially_copyable_v<T>);
  const size_t at = out.size();
  out.resize(at + sizeof(T));
  std::memcpy(out.data() + at, &value, sizeof(T));
}

template <class T>
std::vector<uint8_t> bytes_of(const T& value) {
  std::vector<uint8_t> out;
  put(out, value);
  return out;
}

void put_text(char* field, std::string_view text) { std::memcpy(field, text.data(), text.size()); }

uint8_t checksum_for(const uint8_t* bytes, size_t size) {
  uint8_t sum = 0;
  for (size_t i = 0; i < size; ++i) sum = static_cast<uint8_t>(sum + bytes[i]);
  return static_cast<uint8_t>(-sum);
}

TableHeader table_header(std::string_view signature, uint8_t revision) {
  TableHeader h{};
  put_text(h.signature, signature);
  h.revision = revision;
  put_text(h.oem_id, kOemId);
  put_text(h.oem_table_id, kOemTableId);
  h.oem_revision = 1;
  put_text(h.creator_id, kCreatorId);
  h.creator_revision = 1;
  return h;
}

// Fills in length and checksum once the whole table is in `table`.
void seal(std::vector<uint8_t>& table) {
  const auto length = static_cast<uint32_t>(table.size());
  std::memcpy(table.data() + offsetof(TableHeader, length), &length, sizeof length);
  table[offsetof(TableHeader, checksum)] = 0;
  table[offsetof(TableHeader, checksum)] = checksum_for(table.data(), table.size());
}

GenericAddress io_port(uint16_t port) { return {kSpaceSystemIo, 8, 0, kAccessByte, port}; }

std::vector<uint8_t> build_dsdt() {
  std::vector<uint8_t> t;
  put(t, table_header("DSDT", 2));  // revision 2: 64-bit AML integers
  // Linux's poweroff evaluates \_S5 for SLP_TYPa and, on hardware-reduced ACPI, writes
  // SLP_TYPa << 2 | SLP_EN to the FADT sleep control register, which the VMM watches.
  const auto s5 = aml_name_package("_S5", {layout::kS5SleepType, 0, 0, 0});
  t.insert(t.end(), s5.begin(), s5.end());
  // Hardware-reduced ACPI has no legacy PIC, so Linux maps no ISA IRQs on its own: the
  // UARTs are described here (as PNP0501 with their IRQ) so that their interrupts are
  // routed through the IOAPIC. The console polls, but the agent's tty on COM2 needs them.
  const auto uarts = aml_root_scope("_SB_", [] {
    std::vector<uint8_t> devices;
    const struct { const char* name; uint16_t port; uint8_t irq; uint64_t uid; } ports[] = {
        {"COM1", layout::kCom1, static_cast<uint8_t>(layout::kCom1Irq), 1},
        {"COM2", layout::kCom2, static_cast<uint8_t>(layout::kCom2Irq), 2}};
    for (const auto& p : ports) {
      std::vector<uint8_t> body = aml_name_eisaid("_HID", "PNP0501");
      const auto uid = aml_name_integer("_UID", p.uid);
      const auto crs = aml_name_io_irq_resources("_CRS", p.port, 8, p.irq);
      body.insert(body.end(), uid.begin(), uid.end());
      body.insert(body.end(), crs.begin(), crs.end());
      const auto device = aml_device(p.name, body);
      devices.insert(devices.end(), device.begin(), device.end());
    }
    return devices;
  }());
  t.insert(t.end(), uarts.begin(), uarts.end());
  seal(t);
  return t;
}

std::vector<uint8_t> build_fadt(uint64_t dsdt_address) {
  Fadt f{};
  f.header = table_header("FACP", 6);
  f.minor_version = 0;
  // Hardware-reduced: no PM1/GPE blocks, no SCI, no FACS, no PIT/PIC set-up by Linux;
  // sleep and poweroff go through the two sleep registers instead.
  f.flags = kFadtHwReducedAcpi | kFadtPowerButtonIsDevice | kFadtSleepButtonIsDevice;
  // No 8042 flag: Linux then skips probing a keyboard controller (reboot=k still writes
  // 0xFE to port 0x64). No VGA and no CMOS RTC: the VMM models neither.
  f.iapc_boot_arch = kBootArchNoVga | kBootArchNoCmosRtc;
  f.x_dsdt = dsdt_address;  // the 32-bit DSDT field stays 0: X_DSDT wins when both are set
  f.sleep_control_reg = io_port(layout::kSleepControl);
  f.sleep_status_reg = io_port(layout::kSleepStatus);
  std::vector<uint8_t> t;
  put(t, f);
  seal(t);
  return t;
}

std::vector<uint8_t> build_madt(const Topology& topology) {
  std::vector<uint8_t> t;
  put(t, Madt{table_header("APIC", 5), static_cast<uint32_t>(layout::kLapic), kMadtPcatCompat});
  // Linux numbers CPUs in MADT order (the boot CPU first), so CPU order here is what
  // makes logical CPU n the vCPU with APIC ID topology.cpu(n).apic_id.
  for (const auto& cpu : topology.cpus()) {
    MadtLocalApic lapic{};
    lapic.processor_uid = static_cast<uint8_t>(cpu.cpu);
    lapic.apic_id = static_cast<uint8_t>(cpu.apic_id);
    lapic.flags = kMadtLocalApicEnabled;
    put(t, lapic);
  }
  MadtIoApic ioapic{};
  ioapic.io_apic_id = 0;
  ioapic.address = static_cast<uint32_t>(layout::kIoapic);
  ioapic.gsi_base = 0;
  put(t, ioapic);
  // The PIT's IRQ 0 is wired to IOAPIC pin 2, as on every PC; other ISA IRQs map 1:1.
  MadtInterruptOverride timer{};
  timer.bus = 0;
  timer.source = 0;
  timer.gsi = 2;
  put(t, timer);
  MadtLocalApicNmi nmi{};
  nmi.processor_uid = kAllProcessors;
  nmi.lint = 1;
  put(t, nmi);
  seal(t);
  return t;
}

std::vector<uint8_t> build_srat(const Topology& topology, const std::vector<MemoryRange>& node_ranges) {
  std::vector<uint8_t> t;
  put(t, Srat{table_header("SRAT", 3), 1, 0});
  for (const auto& cpu : topology.cpus()) {
    SratProcessorAffinity affinity{};
    affinity.proximity_domain_lo = static_cast<uint8_t>(cpu.node);
    affinity.proximity_domain_hi[0] = static_cast<uint8_t>(cpu.node >> 8);
    affinity.proximity_domain_hi[1] = static_cast<uint8_t>(cpu.node >> 16);
    affinity.proximity_domain_hi[2] = static_cast<uint8_t>(cpu.node >> 24);
    affinity.apic_id = static_cast<uint8_t>(cpu.apic_id);
    affinity.flags = kSratEnabled;
    put(t, affinity);
  }
  // Linux drops NUMA altogether when these ranges miss more than 1 MiB of e820 RAM,
  // so they must be every node's full share (MemoryLayout::node_ranges covers all RAM).
  for (const auto& range : node_ranges) {
    SratMemoryAffinity memory{};
    memory.proximity_domain = range.node;
    memory.base_lo = static_cast<uint32_t>(range.base);
    memory.base_hi = static_cast<uint32_t>(range.base >> 32);
    memory.length_lo = static_cast<uint32_t>(range.size);
    memory.length_hi = static_cast<uint32_t>(range.size >> 32);
    memory.flags = kSratEnabled;
    put(t, memory);
  }
  seal(t);
  return t;
}

std::vector<uint8_t> build_slit(const Topology& topology) {
  const uint32_t nodes = topology.packages();
  std::vector<uint8_t> t;
  put(t, Slit{table_header("SLIT", 1), nodes});
  for (uint32_t from = 0; from < nodes; ++from)
    for (uint32_t to = 0; to < nodes; ++to) t.push_back(from == to ? kLocalDistance : kRemoteDistance);
  seal(t);
  return t;
}

template <class Entry>
std::vector<uint8_t> build_root_table(std::string_view signature, const std::vector<uint64_t>& tables) {
  std::vector<uint8_t> t;
  put(t, table_header(signature, 1));
  for (uint64_t address : tables) put(t, static_cast<Entry>(address));
  seal(t);
  return t;
}

Rsdp build_rsdp(uint64_t rsdt_address, uint64_t xsdt_address) {
  Rsdp r{};
  put_text(r.signature, "RSD PTR ");
  put_text(r.oem_id, kOemId);
  r.revision = 2;
  r.rsdt_address = static_cast<uint32_t>(rsdt_address);
  r.length = sizeof(Rsdp);
  r.xsdt_address = xsdt_address;
  r.checksum = checksum_for(bytes_of(r).data(), offsetof(Rsdp, length));  // the ACPI 1.0 part
  r.extended_checksum = checksum_for(bytes_of(r).data(), sizeof r);
  return r;
}

// The tables laid out one after another from `base`, each on a 16-byte boundary.
class AcpiImage {
 public:
  explicit AcpiImage(uint64_t base) : base_(base) {}

  /// Appends `table` and returns its guest-physical address.
  uint64_t place(const std::vector<uint8_t>& table) {
    bytes_.resize((bytes_.size() + kTableAlignment - 1) / kTableAlignment * kTableAlignment);
    const uint64_t address = base_ + bytes_.size();
    bytes_.insert(bytes_.end(), table.begin(), table.end());
    return address;
  }

  void write_at(uint64_t address, const std::vector<uint8_t>& data) {
    std::memcpy(bytes_.data() + (address - base_), data.data(), data.size());
  }

  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  uint64_t base_;
  std::vector<uint8_t> bytes_;
};

}  // namespace

AcpiTables build_acpi_tables(const Topology& topology, const std::vector<MemoryRange>& node_ranges) {
  for (const auto& range : node_ranges)
    if (range.node >= topology.packages())
      throw Error(ErrorKind::system, "memory range for NUMA node " + std::to_string(range.node) +
                                         " but the topology has " + std::to_string(topology.packages()) +
                                         " node(s)");

  AcpiImage image(layout::kAcpiBase);
  // The RSDP goes first, at the 16-byte-aligned start of the BIOS area the kernel scans;
  // it is written last, once the root tables have addresses.
  const uint64_t rsdp_address = image.place(std::vector<uint8_t>(sizeof(Rsdp)));
  const uint64_t dsdt = image.place(build_dsdt());
  const std::vector<uint64_t> tables = {
      image.place(build_fadt(dsdt)),
      image.place(build_madt(topology)),
      image.place(build_srat(topology, node_ranges)),
      image.place(build_slit(topology)),
  };
  const uint64_t xsdt = image.place(build_root_table<uint64_t>("XSDT", tables));
  const uint64_t rsdt = image.place(build_root_table<uint32_t>("RSDT", tables));
  image.write_at(rsdp_address, bytes_of(build_rsdp(rsdt, xsdt)));

  if (image.bytes().size() > layout::kAcpiSize)
    throw Error(ErrorKind::system, "ACPI tables need " + std::to_string(image.bytes().size()) +
                                       " bytes, more than the " + std::to_string(layout::kAcpiSize) +
                                       " reserved for them");
  return {layout::kAcpiBase, rsdp_address, std::move(image.bytes())};
}

}  // namespace ktstr::kvm
