#pragma once
// x86_64 Linux direct boot: the zero page (boot_params with e820, command line and
// initrd), identity-mapped page tables and a GDT, and the boot vCPU's registers in
// long mode at the kernel's 64-bit entry point (Documentation/arch/x86/boot.rst,
// "64-bit Boot Protocol").
#include <linux/kvm.h>

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "kvm/bzimage.hpp"
#include "kvm/guest_memory.hpp"
#include "kvm/memory_layout.hpp"

namespace ktstr::kvm {

struct BootImage {
  uint64_t entry = 0;        ///< 64-bit entry point (load address + 0x200)
  uint64_t zero_page = 0;    ///< passed in RSI
  uint64_t initrd_gpa = 0;
  uint64_t initrd_size = 0;
};

/// Throws Error{boot_protocol} when `cmdline` is longer than `kernel` accepts
/// (setup_header.cmdline_size), so validate() refuses it before anything boots.
void check_cmdline_fits(const BzImage& kernel, std::string_view cmdline);

/// Loads kernel, initrd and command line into guest RAM and writes boot_params.
/// Throws Error{memory} when they do not fit, Error{boot_protocol} when the command
/// line is longer than the kernel accepts.
BootImage load_linux(GuestMemory& memory, const MemoryLayout& layout, const BzImage& kernel,
                     std::string_view cmdline, std::span<const uint8_t> initrd, uint64_t rsdp_gpa);

/// Writes the GDT and the page tables identity-mapping the first 4 GiB.
void write_long_mode_tables(GuestMemory& memory);

/// Special registers for 64-bit mode with those tables (starts from the vCPU's own).
kvm_sregs long_mode_sregs(kvm_sregs base);
/// General registers for entering the kernel.
kvm_regs boot_regs(const BootImage& image);
/// x87/SSE control words as after reset.
kvm_fpu boot_fpu();
/// MSRs firmware would leave set: fast strings.
std::vector<kvm_msr_entry> boot_msrs();

}  // namespace ktstr::kvm
