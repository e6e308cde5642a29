#include "kvm/boot.hpp"

#include <asm/bootparam.h>

#include <algorithm>
#include <cstring>

#include "kvm/error.hpp"
#include "kvm/layout.hpp"
#include "kvm/long_mode.hpp"

namespace ktstr::kvm {

namespace {

constexpr uint64_t kPageSize = 4096;
constexpr uint64_t kTwoMiB = 2ULL << 20;
constexpr uint8_t kLoaderUndefined = 0xFF;

// GDT: the boot protocol wants __BOOT_CS = 0x10 and __BOOT_DS = 0x18.
constexpr uint64_t kGdtEntries[] = {
    0,                       // null
    0,                       // unused
    long_mode::kGdtCode64,   // 0x10: 64-bit code, present, DPL 0
    long_mode::kGdtData,     // 0x18: data, 4 GiB, writable
    0x008F8B000000FFFFULL,   // 0x20: busy 64-bit TSS (VMX needs a usable TR)
};
constexpr uint16_t kCodeSelector = 0x10, kDataSelector = 0x18, kTssSelector = 0x20;

using namespace long_mode;

constexpr uint32_t kMsrMiscEnable = 0x1A0;
constexpr uint64_t kMiscEnableFastString = 1;
constexpr uint64_t kBootStack = 0x8FF0;

uint64_t align_down(uint64_t v, uint64_t a) { return v & ~(a - 1); }

}  // namespace

void check_cmdline_fits(const BzImage& kernel, std::string_view cmdline) {
  const auto& hdr = kernel.header();
  if (cmdline.size() + 1 > std::min<uint64_t>(hdr.cmdline_size, layout::kCmdlineMax))
    throw Error(ErrorKind::boot_protocol, "kernel command line is " + std::to_string(cmdline.size()) +
                                              " bytes; this kernel accepts at most " +
                                              std::to_string(hdr.cmdline_size - 1));
}

BootImage load_linux(GuestMemory& memory, const MemoryLayout& layout, const BzImage& kernel,
                     std::string_view cmdline, std::span<const uint8_t> initrd, uint64_t rsdp_gpa) {
  check_cmdline_fits(kernel, cmdline);
  const auto& hdr = kernel.header();

  // The decompressor needs init_size bytes from where it runs (at least 16 MiB up);
  // keep the initrd above that, at the top of RAM below the MMIO hole.
  const uint64_t kernel_end = std::max<uint64_t>(layout::kHighMemory + kernel.kernel_size(),
                                                 (16ULL << 20) + kernel.init_size());
  const uint64_t initrd_limit = std::min<uint64_t>(layout.low_ram_end(), uint64_t{hdr.initrd_addr_max} + 1);
  if (initrd.size() > initrd_limit)
    throw Error(ErrorKind::memory, "initramfs of " + std::to_string(initrd.size() >> 20) + " MiB does not fit");
  const uint64_t initrd_gpa = align_down(initrd_limit - initrd.size(), kTwoMiB);
  if (initrd_gpa < kernel_end)
    throw Error(ErrorKind::memory, "guest memory too small: kernel needs " + std::to_string(kernel_end >> 20) +
                                       " MiB and the initramfs " + std::to_string((initrd.size() >> 20) + 1) +
                                       " MiB below " + std::to_string(initrd_limit >> 20) + " MiB");

  memory.write(layout::kHighMemory, {kernel.kernel(), kernel.kernel_size()});
  memory.write(initrd_gpa, initrd);
  std::vector<uint8_t> cmd(cmdline.begin(), cmdline.end());
  cmd.push_back(0);
  memory.write(layout::kCmdline, cmd);

  boot_params params{};
  // The setup header is copied as the image has it, then the loader's fields are filled.
  std::memcpy(&params.hdr, kernel.header_bytes(), kernel.header_size());
  params.hdr.type_of_loader = kLoaderUndefined;
  params.hdr.cmd_line_ptr = static_cast<uint32_t>(layout::kCmdline);
  params.hdr.ramdisk_image = static_cast<uint32_t>(initrd_gpa);
  params.hdr.ramdisk_size = static_cast<uint32_t>(initrd.size());
  params.ext_ramdisk_image = static_cast<uint32_t>(initrd_gpa >> 32);
  params.ext_ramdisk_size = static_cast<uint32_t>(uint64_t{initrd.size()} >> 32);
  params.acpi_rsdp_addr = rsdp_gpa;
  const auto e820 = layout.e820();
  if (e820.size() > E820_MAX_ENTRIES_ZEROPAGE) throw Error(ErrorKind::system, "e820 map too long");
  for (size_t i = 0; i < e820.size(); ++i) {
    params.e820_table[i].addr = e820[i].addr;
    params.e820_table[i].size = e820[i].size;
    params.e820_table[i].type = e820[i].type;
  }
  params.e820_entries = static_cast<uint8_t>(e820.size());
  memory.write_obj(layout::kZeroPage, params);

  return {layout::kHighMemory + 0x200, layout::kZeroPage, initrd_gpa, initrd.size()};
}

void write_long_mode_tables(GuestMemory& memory) {
  for (size_t i = 0; i < std::size(kGdtEntries); ++i) memory.write_obj(layout::kGdt + 8 * i, kGdtEntries[i]);

  // One PML4 entry -> one PDPT with four entries -> four PDs of 2 MiB pages = 4 GiB.
  memory.write_obj(layout::kPml4, layout::kPdpt | kPtePresentRw);
  for (uint64_t gib = 0; gib < 4; ++gib) {
    const uint64_t pd = layout::kPd + gib * kPageSize;
    memory.write_obj(layout::kPdpt + 8 * gib, pd | kPtePresentRw);
    for (uint64_t i = 0; i < 512; ++i)
      memory.write_obj(pd + 8 * i, ((gib << 30) + (i << 21)) | kPtePresentRw | kPtePageSize);
  }
}

kvm_sregs long_mode_sregs(kvm_sregs s) {
  s.cs = flat_segment(kCodeSelector, 0xB, true);
  s.ds = s.es = s.fs = s.gs = s.ss = flat_segment(kDataSelector, 0x3, false);
  s.tr = flat_segment(kTssSelector, 0xB, false);
  s.tr.s = 0;
  s.tr.g = 0;
  s.tr.limit = 0xFFFFF;
  s.gdt.base = layout::kGdt;
  s.gdt.limit = sizeof(kGdtEntries) - 1;
  s.idt.base = 0;
  s.idt.limit = 0;
  s.cr0 = kCr0Pe | kCr0Et | kCr0Ne | kCr0Pg;
  s.cr3 = layout::kPml4;
  s.cr4 = kCr4Pae;
  s.efer = kEferLme | kEferLma;
  return s;
}

kvm_regs boot_regs(const BootImage& image) {
  kvm_regs r{};
  r.rflags = 0x2;  // reserved bit 1; interrupts off
  r.rip = image.entry;
  r.rsi = image.zero_page;
  r.rsp = r.rbp = kBootStack;
  return r;
}

kvm_fpu boot_fpu() {
  kvm_fpu f{};
  f.fcw = 0x37F;
  f.mxcsr = 0x1F80;
  return f;
}

std::vector<kvm_msr_entry> boot_msrs() {
  // No MTRRs: the guest is not offered them (cpuid.cpp), so it relies on PAT alone.
  std::vector<kvm_msr_entry> msrs(1);
  msrs[0].index = kMsrMiscEnable;
  msrs[0].data = kMiscEnableFastString;
  return msrs;
}

}  // namespace ktstr::kvm
