// A kernel file's boot header: any bytes are a bzImage or a kvm::Error naming why not.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kvm/bzimage.hpp"
#include "kvm/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto image = ktstr::kvm::BzImage::parse(std::vector<uint8_t>(data, data + size), "fuzz");
    (void)image.protocol();
    (void)image.init_size();
  } catch (const ktstr::kvm::Error&) {
  }
  return 0;
}
