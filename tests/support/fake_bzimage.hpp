#pragma once
// Crafted bzImages for tests: a valid boot-protocol header in front of a tiny 64-bit
// "kernel" that halts forever with interrupts off (hlt; jmp back), so the guest never
// reaches the agent. It halts rather than spins: under the emulated nested host a vCPU
// spinning with IF=0 keeps the outer CPU from taking its own interrupts (QEMU TCG SVM).
// The triple-fault variant loads a zero-limit IDT and executes int3: #BP, #GP and #DF all
// lie past the IDT's limit, so the BSP triple-faults (KVM_EXIT_SHUTDOWN) with its rip at
// the int3 (kFakeTripleFaultRip).
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

namespace ktstr::test {

/// The kernel part's 64-bit entry (kvm/boot.cpp: 1 MiB + 0x200) and the fault's rip.
inline constexpr uint64_t kFakeEntry = 0x100200;
inline constexpr uint64_t kFakeTripleFaultRip = kFakeEntry + 7;  // lidt [rip+1] is 7 bytes

enum class FakeEntry { halt, triple_fault };

struct FakeBzImageSpec {
  uint16_t protocol = 0x020F;
  uint8_t loadflags = 0x01;     // LOADED_HIGH
  uint16_t xloadflags = 0x01;   // XLF_KERNEL_64
  bool boot_flag = true;
  bool hdrs = true;
  uint8_t setup_sects = 1;
  size_t kernel_bytes = 4096;
  FakeEntry entry = FakeEntry::halt;
};

inline std::vector<uint8_t> fake_bzimage(const FakeBzImageSpec& spec = {}) {
  const size_t kernel_offset = (spec.setup_sects + 1) * 512;
  std::vector<uint8_t> b(kernel_offset + spec.kernel_bytes, 0);
  auto put16 = [&](size_t off, uint16_t v) { std::memcpy(&b[off], &v, 2); };
  auto put32 = [&](size_t off, uint32_t v) { std::memcpy(&b[off], &v, 4); };
  b[0x1F1] = spec.setup_sects;
  if (spec.boot_flag) put16(0x1FE, 0xAA55);
  b[0x200] = 0xEB;  // jmp to the end of the header
  b[0x201] = 0x66;
  if (spec.hdrs) std::memcpy(&b[0x202], "HdrS", 4);
  put16(0x206, spec.protocol);
  b[0x211] = spec.loadflags;
  put32(0x22C, 0x7FFFFFFF);  // initrd_addr_max
  put32(0x230, 0x200000);    // kernel_alignment
  b[0x234] = 1;              // relocatable
  put16(0x236, spec.xloadflags);
  put32(0x238, 2047);        // cmdline_size
  put32(0x260, 0x100000);    // init_size
  // 64-bit entry at +0x200 of the protected-mode part: hlt; jmp back to the hlt. A kernel
  // part too short to hold it (a truncated image the tests want refused) gets none.
  if (spec.entry == FakeEntry::triple_fault && spec.kernel_bytes >= 0x212) {
    // lidt [rip+1] (0F 01 1D disp32); int3 (CC); the IDT register image at +0x208: 10
    // zero bytes (limit 0, base 0), already zero.
    const uint8_t code[] = {0x0F, 0x01, 0x1D, 0x01, 0x00, 0x00, 0x00, 0xCC};
    std::memcpy(&b[kernel_offset + 0x200], code, sizeof code);
  } else if (spec.kernel_bytes >= 0x203) {
    b[kernel_offset + 0x200] = 0xF4;
    b[kernel_offset + 0x201] = 0xEB;
    b[kernel_offset + 0x202] = 0xFD;
  }
  return b;
}

inline void write_file(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace ktstr::test
