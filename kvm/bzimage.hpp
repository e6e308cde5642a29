#pragma once
// An x86 Linux bzImage as the boot protocol (Documentation/arch/x86/boot.rst) sees it:
// a real-mode setup part whose header starts at 0x1F1, followed by the protected-mode
// kernel at (setup_sects + 1) * 512.
#include <asm/bootparam.h>

#include <cstdint>
#include <filesystem>
#include <vector>

namespace ktstr::kvm {

class BzImage {
 public:
  static constexpr uint16_t kMinProtocol = 0x0206;      ///< 2.06: cmdline_size, initrd_addr_max
  static constexpr uint16_t kMin64BitProtocol = 0x020C; ///< 2.12: xloadflags / 64-bit entry

  /// Reads and validates a file; throws Error{kernel_image} or Error{boot_protocol}.
  static BzImage load(const std::filesystem::path& path);
  /// Validates an in-memory image (same errors); `name` is used in messages.
  static BzImage parse(std::vector<uint8_t> bytes, const std::string& name = "kernel");

  const setup_header& header() const { return header_; }
  uint16_t protocol() const { return header_.version; }
  /// Bytes of the setup header as found in the image (0x1F1 up to its stated end).
  const uint8_t* header_bytes() const { return bytes_.data() + 0x1F1; }
  size_t header_size() const { return header_size_; }
  /// The protected-mode kernel, loaded at 1 MiB; entered at +0x200 in 64-bit mode.
  const uint8_t* kernel() const { return bytes_.data() + kernel_offset_; }
  size_t kernel_size() const { return bytes_.size() - kernel_offset_; }
  /// Memory the kernel needs from its load address while decompressing.
  uint64_t init_size() const { return header_.init_size; }

 private:
  std::vector<uint8_t> bytes_;
  setup_header header_{};
  size_t header_size_ = 0;
  size_t kernel_offset_ = 0;
};

}  // namespace ktstr::kvm
