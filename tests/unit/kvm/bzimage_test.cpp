#include <catch2/catch.hpp>

#include "kvm/bzimage.hpp"
#include "kvm/error.hpp"
#include "tests/support/fake_bzimage.hpp"

using namespace ktstr::kvm;
using ktstr::test::fake_bzimage;
using ktstr::test::FakeBzImageSpec;

namespace {
ErrorKind kind_of(const FakeBzImageSpec& spec) {
  try {
    BzImage::parse(fake_bzimage(spec));
  } catch (const Error& e) {
    return e.kind();
  }
  FAIL("the image was accepted");
  return ErrorKind::system;
}
}  // namespace

TEST_CASE("a well-formed bzImage header is accepted and its parts located") {
  auto image = BzImage::parse(fake_bzimage());
  CHECK(image.protocol() == 0x020F);
  CHECK(image.kernel_size() == 4096);
  CHECK(image.kernel()[0x200] == 0xF4);
  CHECK(image.kernel()[0x201] == 0xEB);
  CHECK(image.header_size() == 0x268 - 0x1F1);
  CHECK(image.init_size() == 0x100000);
}

TEST_CASE("setup_sects of zero means four sectors") {
  FakeBzImageSpec spec;
  spec.setup_sects = 4;
  auto bytes = fake_bzimage(spec);
  bytes[0x1F1] = 0;
  CHECK(BzImage::parse(bytes).kernel()[0x200] == 0xF4);
}

TEST_CASE("files that are not bzImages are refused as kernel_image errors") {
  FakeBzImageSpec no_flag;
  no_flag.boot_flag = false;
  CHECK(kind_of(no_flag) == ErrorKind::kernel_image);
  FakeBzImageSpec no_hdrs;
  no_hdrs.hdrs = false;
  CHECK(kind_of(no_hdrs) == ErrorKind::kernel_image);
  CHECK_THROWS_AS(BzImage::parse(std::vector<uint8_t>(100, 0)), Error);
  CHECK_THROWS_AS(BzImage::load("/nonexistent/vmlinuz"), Error);
}

TEST_CASE("old boot protocols and kernels without a 64-bit entry are boot_protocol errors") {
  FakeBzImageSpec old;
  old.protocol = 0x0205;
  CHECK(kind_of(old) == ErrorKind::boot_protocol);
  FakeBzImageSpec no64;
  no64.xloadflags = 0;
  CHECK(kind_of(no64) == ErrorKind::boot_protocol);
  FakeBzImageSpec before_212;
  before_212.protocol = 0x020A;
  CHECK(kind_of(before_212) == ErrorKind::boot_protocol);
  FakeBzImageSpec zimage;
  zimage.loadflags = 0;
  CHECK(kind_of(zimage) == ErrorKind::boot_protocol);
}

TEST_CASE("setup_sects pointing past the end of the file is refused") {
  FakeBzImageSpec spec;
  spec.kernel_bytes = 16;
  CHECK(kind_of(spec) == ErrorKind::kernel_image);
}
