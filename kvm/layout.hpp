#pragma once
// Guest-physical layout and legacy port assignments shared by the boot code, the
// ACPI tables and the device models. One place so they cannot disagree.
#include <cstdint>

namespace ktstr::kvm::layout {

// Low memory (below 1 MiB).
constexpr uint64_t kGdt = 0x500;
constexpr uint64_t kZeroPage = 0x7000;          ///< struct boot_params
constexpr uint64_t kPml4 = 0x9000;              ///< identity map: PML4, PDPT, 4 PDs (4 GiB, 2 MiB pages)
constexpr uint64_t kPdpt = 0xA000;
constexpr uint64_t kPd = 0xB000;                ///< kPd .. kPd + 4 * 4 KiB
constexpr uint64_t kCmdline = 0x20000;
constexpr uint64_t kCmdlineMax = 0x10000;
constexpr uint64_t kEbdaStart = 0x9FC00;        ///< usable RAM ends here below 1 MiB
constexpr uint64_t kAcpiBase = 0xE0000;         ///< ACPI tables; RSDP first (BIOS scan area)
constexpr uint64_t kAcpiSize = 0x20000;
constexpr uint64_t kHighMemory = 0x100000;      ///< 1 MiB: protected-mode kernel load address

// The 32-bit MMIO hole: RAM stops at kMmioHoleStart and resumes at 4 GiB.
constexpr uint64_t kMmioHoleStart = 0xC0000000;
constexpr uint64_t kFourGiB = 0x100000000;
constexpr uint64_t kIoapic = 0xFEC00000;
constexpr uint64_t kLapic = 0xFEE00000;
constexpr uint64_t kTssAddr = 0xFFFBD000;       ///< KVM_SET_TSS_ADDR (3 pages)
constexpr uint64_t kIdentityMapAddr = 0xFFFBC000;

// Legacy I/O ports and ISA IRQs.
constexpr uint16_t kCom1 = 0x3F8;               ///< kernel console
constexpr uint32_t kCom1Irq = 4;
constexpr uint16_t kCom2 = 0x2F8;               ///< guest agent channel
constexpr uint32_t kCom2Irq = 3;
constexpr uint16_t kI8042Data = 0x60;
constexpr uint16_t kI8042Command = 0x64;
constexpr uint16_t kSleepControl = 0x600;       ///< ACPI HW-reduced sleep control register
constexpr uint16_t kSleepStatus = 0x601;        ///< ACPI HW-reduced sleep status register
constexpr uint8_t kS5SleepType = 5;             ///< SLP_TYP of \_S5 in our DSDT

}  // namespace ktstr::kvm::layout
