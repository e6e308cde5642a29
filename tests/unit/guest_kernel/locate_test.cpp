#include <catch2/catch.hpp>

#include "kvm/guest_kernel/guest_kernel.hpp"
#include "tests/support/synthetic_kernel.hpp"

using namespace ktstr::guest_kernel;
using namespace ktstr::guest_kernel::testing;
using Catch::Matchers::Contains;

namespace {

std::string refusal(const SyntheticKernel& k, const LocateInput& in, KernelLayout layout) {
  try {
    GuestKernel::locate(std::move(layout), k.ram, in);
  } catch (const LocateError& e) {
    const std::string reason = e.what();
    CHECK(reason.find('\n') == std::string::npos);  // one line
    return reason;
  }
  return "(located)";
}

std::string refusal(const SyntheticKernel& k, const LocateInput& in) { return refusal(k, in, k.layout); }

}  // namespace

TEST_CASE("locate finds the slide, _text, page_offset_base, the online CPUs and the banner") {
  struct Case {
    bool five_level, zero_based;
    uint64_t slide, pa_text, step;
  };
  for (const Case c : {Case{false, true, 100 * kMiB, 64 * kMiB, 5}, Case{true, true, 0, 32 * kMiB, 0},
                       Case{false, false, 1022 * kMiB, 16 * kMiB, 77}, Case{true, false, 2 * kMiB, 64 * kMiB, 3}}) {
    SyntheticKernel k({.five_level = c.five_level, .percpu_zero_based = c.zero_based, .slide = c.slide,
                       .pa_text = c.pa_text, .page_offset_step = c.step});
    CAPTURE(c.five_level, c.zero_based, c.slide, c.pa_text);
    const auto g = GuestKernel::locate(k.layout, k.ram, k.input());
    const auto& l = g.located();
    CHECK(l.slide == static_cast<int64_t>(c.slide));
    CHECK(l.pa_text == c.pa_text);
    CHECK(l.page_offset_base == (c.five_level ? 0xff11000000000000ull : 0xffff888000000000ull) + c.step * kGiB);
    CHECK(l.la57 == c.five_level);
    CHECK(l.cpus == std::vector<uint32_t>{0, 1, 2});
    REQUIRE(l.per_cpu_offset.size() == 3);
    for (uint32_t cpu = 0; cpu < 3; ++cpu) {
      const uint64_t rq = c.zero_based ? l.per_cpu_offset[cpu] + k.layout.runqueues
                                       : k.layout.runqueues + c.slide + l.per_cpu_offset[cpu];
      CHECK(rq == k.rq(cpu));
    }
    CHECK(l.banner == "Linux version 6.12.99-synthetic (tests@ktstr) (gcc 12.2.0) #1 SMP PREEMPT_DYNAMIC");
  }
}

TEST_CASE("locate works from a vCPU caught in user mode under PTI (user PGD, PCID, NOFLUSH)") {
  SyntheticKernel k;
  auto in = k.input();
  in.cr3 = k.pti_user_pgd_pa | 0x801 | (1ull << 63);
  const auto g = GuestKernel::locate(k.layout, k.ram, in);
  CHECK(g.located().pa_text == 64 * kMiB);
  CHECK(g.sample_cpu(1).nr_running.value == 11);
}

TEST_CASE("locate refuses an LSTAR whose slide is not 2 MiB-consistent or beyond 1 GiB") {
  SyntheticKernel k;
  auto in = k.input();
  in.lstar += 0x1000;
  CHECK_THAT(refusal(k, in), Contains("not a multiple of 2 MiB"));
  in.lstar = k.layout.symbols.entry_syscall_64 + kGiB;
  CHECK_THAT(refusal(k, in), Contains("slide 0x40000000"));
  in.lstar = k.layout.symbols.entry_syscall_64 - 2 * kMiB;  // a negative slide wraps to a huge one
  CHECK_THAT(refusal(k, in), Contains("not a multiple of 2 MiB below 1 GiB"));
}

TEST_CASE("locate refuses an LSTAR that CR3 does not map, or maps off 2 MiB alignment") {
  SyntheticKernel k;
  auto in = k.input();
  in.cr3 = 200 * kMiB;  // an empty table
  CHECK_THAT(refusal(k, in), Contains("is not mapped by CR3 0xc800000"));
  in.cr3 = 1ull << 40;  // beyond RAM
  CHECK_THAT(refusal(k, in), Contains("is not mapped"));
  // The right slide for a kernel placed 4 KiB off a 2 MiB boundary.
  in = k.input();
  uint64_t next = 220 * kMiB;
  PageTableBuilder b(*k.ram, k.swapper_pgd_pa, false, next);
  in.lstar += 2 * kMiB * 100;  // into a range of the image the tables do not map yet
  b.map_4k(in.lstar & ~0xFFFull, 300 * kMiB + 0x1000);
  CHECK_THAT(refusal(k, in), Contains("not 2 MiB aligned"));
}

TEST_CASE("locate refuses a banner that does not name the layout's release") {
  SyntheticKernel k;
  auto layout = k.layout;
  layout.release = "6.1.0-57-amd64";
  CHECK_THAT(refusal(k, k.input(), layout), Contains("expected it to start \"Linux version 6.1.0-57-amd64 \""));
  layout.release = "6.12.9";  // a prefix of the real release is not the release
  CHECK_THAT(refusal(k, k.input(), layout), Contains("the banner reads \"Linux version 6.12.99-synthetic"));
  layout.release.clear();  // unknown release: any Linux banner will do
  CHECK(refusal(k, k.input(), layout) == "(located)");
  k.write_string(k.image_va(k.layout.symbols.linux_banner), "\x01garbage");
  CHECK_THAT(refusal(k, k.input(), layout), Contains("expected it to start \"Linux version \""));
}

TEST_CASE("locate refuses LA57 disagreeing with __pgtable_l5_enabled, and a nonsensical page_offset_base") {
  SyntheticKernel k;
  k.write_u32(k.image_va(k.layout.symbols.pgtable_l5_enabled), 1);
  CHECK_THAT(refusal(k, k.input()), Contains("__pgtable_l5_enabled is 1 but CR4.LA57 is 0"));
  k.write_u32(k.image_va(k.layout.symbols.pgtable_l5_enabled), 0);
  k.write_u64(k.image_va(k.layout.symbols.page_offset_base), k.page_offset_base + 0x1000);
  CHECK_THAT(refusal(k, k.input()), Contains("page_offset_base reads 0xffff888140001000"));
  k.write_u64(k.image_va(k.layout.symbols.page_offset_base), 0x0000123400000000ull);
  CHECK_THAT(refusal(k, k.input()), Contains("not a 1 GiB aligned kernel address"));
}

TEST_CASE("a huge nr_cpu_ids and an all-ones online mask are bounded by vCPUs and NR_CPUS") {
  SyntheticKernel k;
  k.write_u32(k.image_va(k.layout.symbols.nr_cpu_ids), 0xffffffffu);
  for (int word = 0; word < 4; ++word) k.write_u64(k.image_va(k.layout.symbols.cpu_online_mask) + 8 * word, ~0ull);
  auto in = k.input();
  in.vcpus = 1000;
  const auto g = GuestKernel::locate(k.layout, k.ram, in);
  CHECK(g.located().cpus.size() == 16);  // nr_cpus_max
  CHECK(g.located().cpus.back() == 15);
  CHECK(g.located().per_cpu_offset.size() == 16);
  CHECK(g.located().per_cpu_offset[5] == 0);   // never written: CPU 5 has no per-CPU area
  CHECK_FALSE(g.sample_cpu(5).nr_running.ok);
  CHECK_FALSE(g.sample_cpu(15).clock.ok);
  CHECK_FALSE(g.sample_cpu(4000).clock.ok);
  in.vcpus = 2;
  CHECK(GuestKernel::locate(k.layout, k.ram, in).located().cpus == std::vector<uint32_t>{0, 1});
  k.write_u32(k.image_va(k.layout.symbols.nr_cpu_ids), 1);
  CHECK(GuestKernel::locate(k.layout, k.ram, in).located().cpus == std::vector<uint32_t>{0});
}

TEST_CASE("locate refuses an empty online mask and an unreadable per-CPU offset table") {
  SyntheticKernel k;
  k.write_u64(k.image_va(k.layout.symbols.cpu_online_mask), 0);
  CHECK_THAT(refusal(k, k.input()), Contains("no online CPU below 3"));
  k.write_u64(k.image_va(k.layout.symbols.cpu_online_mask), 7);
  auto layout = k.layout;
  layout.symbols.per_cpu_offset = SyntheticKernel::kTextLink + 500 * kMiB;  // image rule lands past RAM
  CHECK_THAT(refusal(k, k.input(), layout), Contains("__per_cpu_offset[]"));
}
