#pragma once
// The decompressed kernel (vmlinux.bin, an ELF64 without .symtab) read with libelf from
// memory: sections by name (.BTF), PT_LOAD segments, and bytes at a link-time virtual
// address. Every offset from the file is checked against the buffer; a malformed image
// gives ImageError, never a read out of bounds.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace ktstr::guest_kernel {

struct LoadSegment {
  uint64_t vaddr = 0, paddr = 0;
  uint64_t file_offset = 0, file_size = 0, mem_size = 0;
};

class KernelElf {
 public:
  /// Takes the payload bytes (the ELF may be followed by other data, e.g. relocations).
  explicit KernelElf(std::vector<uint8_t> bytes);
  ~KernelElf();
  KernelElf(KernelElf&&) noexcept;
  KernelElf& operator=(KernelElf&&) noexcept;

  /// The bytes of section `name` (SHT_NOBITS: empty), nullopt when there is none.
  std::optional<std::span<const uint8_t>> section(const std::string& name) const;
  const std::vector<LoadSegment>& segments() const { return segments_; }
  /// `length` bytes at link-time address `vaddr`, from the file part of one PT_LOAD
  /// segment; nullopt when not all of them are there.
  std::optional<std::span<const uint8_t>> read(uint64_t vaddr, size_t length) const;
  /// All bytes of the buffer given to the constructor.
  std::span<const uint8_t> bytes() const { return bytes_; }

 private:
  struct Sections;
  std::vector<uint8_t> bytes_;
  std::vector<LoadSegment> segments_;
  std::unique_ptr<Sections> sections_;
};

}  // namespace ktstr::guest_kernel
