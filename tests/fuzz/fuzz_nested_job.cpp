// The nested host's job and status files (host <-> nested init): any bytes decode or are
// refused with a reason, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "apps/protocol/nested_job.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::string error;
  (void)ktstr::nested::decode_job(bytes, error);
  (void)ktstr::nested::decode_status(bytes, error);
  return 0;
}
