#pragma once
// Byte layouts of the ACPI structures we build (ACPI 6.x, chapter 5.2). Packed so that
// sizeof and the field offsets are the specification's; every struct is trivially
// copyable and written to or read from a byte buffer with memcpy.
#include <cstddef>
#include <cstdint>

namespace ktstr::kvm::acpi {

#pragma pack(push, 1)

/// Root System Description Pointer, revision 2 (5.2.5.3).
struct Rsdp {
  char signature[8];
  uint8_t checksum;           ///< over the first 20 bytes (the ACPI 1.0 part)
  char oem_id[6];
  uint8_t revision;
  uint32_t rsdt_address;
  uint32_t length;
  uint64_t xsdt_address;
  uint8_t extended_checksum;  ///< over all `length` bytes
  uint8_t reserved[3];
};

/// The header every description table starts with (5.2.6).
struct TableHeader {
  char signature[4];
  uint32_t length;            ///< whole table, header included
  uint8_t revision;
  uint8_t checksum;           ///< makes the bytes of the whole table sum to 0
  char oem_id[6];
  char oem_table_id[8];
  uint32_t oem_revision;
  char creator_id[4];
  uint32_t creator_revision;
};

/// Generic Address Structure (5.2.3.2).
struct GenericAddress {
  uint8_t space_id;           ///< kSpaceSystemIo for ports
  uint8_t bit_width;
  uint8_t bit_offset;
  uint8_t access_size;        ///< 1 = byte access
  uint64_t address;
};

/// Fixed ACPI Description Table, revision 6 (5.2.9).
struct Fadt {
  TableHeader header;
  uint32_t firmware_ctrl;
  uint32_t dsdt;
  uint8_t reserved0;
  uint8_t preferred_pm_profile;
  uint16_t sci_int;
  uint32_t smi_cmd;
  uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
  uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk, pm2_cnt_blk, pm_tmr_blk, gpe0_blk, gpe1_blk;
  uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len, gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
  uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
  uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
  uint16_t iapc_boot_arch;
  uint8_t reserved1;
  uint32_t flags;
  GenericAddress reset_reg;
  uint8_t reset_value;
  uint16_t arm_boot_arch;
  uint8_t minor_version;
  uint64_t x_firmware_ctrl;
  uint64_t x_dsdt;
  GenericAddress x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk, x_pm1b_cnt_blk, x_pm2_cnt_blk, x_pm_tmr_blk,
      x_gpe0_blk, x_gpe1_blk;
  GenericAddress sleep_control_reg;
  GenericAddress sleep_status_reg;
  uint64_t hypervisor_vendor_id;
};

/// Multiple APIC Description Table, fixed part (5.2.12); subtables follow.
struct Madt {
  TableHeader header;
  uint32_t local_apic_address;
  uint32_t flags;
};

struct MadtLocalApic {
  uint8_t type = 0;
  uint8_t length = sizeof(MadtLocalApic);
  uint8_t processor_uid;
  uint8_t apic_id;
  uint32_t flags;
};

struct MadtIoApic {
  uint8_t type = 1;
  uint8_t length = sizeof(MadtIoApic);
  uint8_t io_apic_id;
  uint8_t reserved;
  uint32_t address;
  uint32_t gsi_base;
};

struct MadtInterruptOverride {
  uint8_t type = 2;
  uint8_t length = sizeof(MadtInterruptOverride);
  uint8_t bus;
  uint8_t source;             ///< ISA IRQ
  uint32_t gsi;
  uint16_t flags;             ///< polarity / trigger mode, 0 = bus default
};

struct MadtLocalApicNmi {
  uint8_t type = 4;
  uint8_t length = sizeof(MadtLocalApicNmi);
  uint8_t processor_uid;      ///< kAllProcessors for every CPU
  uint16_t flags;
  uint8_t lint;
};

/// System Resource Affinity Table, fixed part (5.2.16); subtables follow.
struct Srat {
  TableHeader header;
  uint32_t reserved1;         ///< 1, for compatibility with old OSes
  uint64_t reserved2;
};

struct SratProcessorAffinity {
  uint8_t type = 0;
  uint8_t length = sizeof(SratProcessorAffinity);
  uint8_t proximity_domain_lo;
  uint8_t apic_id;
  uint32_t flags;
  uint8_t sapic_eid;
  uint8_t proximity_domain_hi[3];
  uint32_t clock_domain;
};

struct SratMemoryAffinity {
  uint8_t type = 1;
  uint8_t length = sizeof(SratMemoryAffinity);
  uint32_t proximity_domain;
  uint16_t reserved1;
  uint32_t base_lo, base_hi;
  uint32_t length_lo, length_hi;
  uint32_t reserved2;
  uint32_t flags;
  uint64_t reserved3;
};

/// System Locality Information Table, fixed part (5.2.17); an N x N byte matrix follows.
struct Slit {
  TableHeader header;
  uint64_t localities;
};

#pragma pack(pop)

static_assert(sizeof(Rsdp) == 36 && offsetof(Rsdp, length) == 20 && offsetof(Rsdp, xsdt_address) == 24);
static_assert(sizeof(TableHeader) == 36 && offsetof(TableHeader, checksum) == 9);
static_assert(sizeof(GenericAddress) == 12);
static_assert(offsetof(Fadt, iapc_boot_arch) == 109 && offsetof(Fadt, flags) == 112);
static_assert(offsetof(Fadt, x_dsdt) == 140 && offsetof(Fadt, sleep_control_reg) == 244);
static_assert(offsetof(Fadt, sleep_status_reg) == 256 && sizeof(Fadt) == 276);
static_assert(sizeof(Madt) == 44 && sizeof(MadtLocalApic) == 8 && sizeof(MadtIoApic) == 12);
static_assert(sizeof(MadtInterruptOverride) == 10 && sizeof(MadtLocalApicNmi) == 6);
static_assert(sizeof(Srat) == 48 && sizeof(SratProcessorAffinity) == 16 && sizeof(SratMemoryAffinity) == 40);
static_assert(sizeof(Slit) == 44);

constexpr uint8_t kSpaceSystemIo = 1;
constexpr uint8_t kAccessByte = 1;

constexpr uint32_t kFadtHwReducedAcpi = 1u << 20;
constexpr uint32_t kFadtPowerButtonIsDevice = 1u << 4;  ///< no fixed-feature power button
constexpr uint32_t kFadtSleepButtonIsDevice = 1u << 5;  ///< no fixed-feature sleep button
constexpr uint16_t kBootArchLegacyDevices = 1u << 0;
constexpr uint16_t kBootArch8042 = 1u << 1;
constexpr uint16_t kBootArchNoVga = 1u << 2;
constexpr uint16_t kBootArchNoCmosRtc = 1u << 5;

constexpr uint32_t kMadtPcatCompat = 1u << 0;
constexpr uint32_t kMadtLocalApicEnabled = 1u << 0;
constexpr uint8_t kAllProcessors = 0xff;

constexpr uint32_t kSratEnabled = 1u << 0;

constexpr uint8_t kLocalDistance = 10;   ///< SLIT: a node to itself
constexpr uint8_t kRemoteDistance = 20;  ///< SLIT: any other node (one hop)

}  // namespace ktstr::kvm::acpi
