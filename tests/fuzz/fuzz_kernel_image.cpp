// What the monitor reads from a kernel image, on mutated images: the payload's
// decompression (bounded) and the kallsyms tables' decoder; a System.map and a watch
// condition as text. Errors are ImageError, never a crash or an unbounded allocation.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "kvm/guest_kernel/image_error.hpp"
#include "kvm/guest_kernel/kallsyms.hpp"
#include "kvm/guest_kernel/kernel_payload.hpp"
#include "kvm/guest_kernel/symbol_table.hpp"
#include "kvm/guest_kernel/word_condition.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  try {
    (void)ktstr::guest_kernel::decompress_payload(bytes, 64u << 20);
  } catch (const ktstr::guest_kernel::ImageError&) {
  }
  try {
    (void)ktstr::guest_kernel::decode_kallsyms(bytes);
  } catch (const ktstr::guest_kernel::ImageError&) {
  }
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    (void)ktstr::guest_kernel::parse_system_map(text);
  } catch (const ktstr::guest_kernel::ImageError&) {
  }
  (void)ktstr::guest_kernel::parse_word_condition(text);
  return 0;
}
