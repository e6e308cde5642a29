// Random guest memory fed to every reader: nothing may crash, hang or read out of bounds,
// and each iteration's reads of guest memory stay under a fixed bound.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstring>
#include <random>
#include <spdlog/spdlog.h>

#include "kvm/guest_kernel/guest_kernel.hpp"
#include "kvm/guest_kernel/page_walk.hpp"
#include "tests/support/synthetic_kernel.hpp"

using namespace ktstr::guest_kernel;
using namespace ktstr::guest_kernel::testing;

namespace {

constexpr uint32_t kSeed = 0x6b747374;  // fixed, printed, so a failure reproduces
constexpr int kIterations = 2000;
constexpr uint64_t kMaxReadsPerIteration = 200'000;

uint64_t mix(uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/// RAM of `size` bytes whose every 8-byte word is a function of (seed, address): half are
/// plain noise, half look like page-table entries or pointers into this RAM, so walks and
/// list walks go deep instead of failing at the first read.
class RandomRam final : public PhysicalMemory {
 public:
  RandomRam(uint64_t seed, uint64_t size) : seed_(seed), size_(size) {}
  bool read(uint64_t gpa, std::span<uint8_t> out) const override {
    ++reads_;
    if (gpa >= size_ || out.size() > size_ - gpa) return false;
    for (size_t i = 0; i < out.size(); ++i) {
      const uint64_t at = gpa + i;
      const uint64_t word = this->word(at / 8);
      out[i] = static_cast<uint8_t>(word >> (8 * (at % 8)));
    }
    return true;
  }
  uint64_t reads() const { return reads_; }

 private:
  uint64_t word(uint64_t index) const {
    const uint64_t r = mix(seed_ ^ mix(index));
    switch (r & 3) {
      case 0: return (mix(r) % size_ & ~0xFFFull) | (r >> 8 & 0x1ff);       // an entry-like value
      case 1: return 0xffff888000000000ull + (mix(r) % size_ & ~7ull);      // a direct-map pointer
      default: return mix(r + 1);
    }
  }
  uint64_t seed_;
  uint64_t size_;
  mutable uint64_t reads_ = 0;
};

void exercise(const GuestKernel& g, uint32_t vcpus) {
  for (uint32_t cpu = 0; cpu < vcpus + 2; ++cpu) {
    const auto s = g.sample_cpu(cpu);
    REQUIRE(s.runnable.size() <= kRunnableListBound);
    for (const auto& t : s.runnable) REQUIRE(t.comm.size() <= 15);
    REQUIRE(s.curr.comm.size() <= 15);
  }
  const auto x = g.sample_scx();
  REQUIRE(x.ops_name.size() <= 128);
  (void)g.unavailable();
  const auto bpf = g.read_bpf_maps();
  REQUIRE(bpf.maps.size() <= kBpfMaxMaps);
  for (const auto& m : bpf.maps) {
    REQUIRE(m.entries.size() <= kBpfMaxEntries);
    REQUIRE(m.name.size() <= 16);
    for (const auto& e : m.entries) REQUIRE(e.value.size() <= kBpfMaxFieldsPerValue + 1);
  }
}

}  // namespace

TEST_CASE("random bytes as guest memory: walks, locate and samples end bounded without crashing") {
  spdlog::info("guest_kernel fuzz: seed {:#x}, {} iterations", kSeed, kIterations);
  std::printf("guest_kernel fuzz seed %#x\n", kSeed);
  std::mt19937_64 rng(kSeed);
  SyntheticKernel shape;  // its layout only
  int located = 0, past_lstar = 0;
  for (int i = 0; i < kIterations; ++i) {
    CAPTURE(kSeed, i);
    const uint64_t size = (1 + rng() % 1024) * kMiB;
    auto ram = std::make_shared<RandomRam>(rng(), size);
    const auto start = std::chrono::steady_clock::now();
    for (int w = 0; w < 16; ++w) {
      const uint64_t root = rng() % size & ~0xFFFull;
      const auto pa = walk(*ram, root, rng(), rng() & 1);
      if (pa) REQUIRE(*pa < (1ull << 52));
    }
    LocateInput in{.lstar = shape.layout.symbols.entry_syscall_64 + (rng() % 512) * 2 * kMiB,
                   .cr3 = rng() % size | (rng() & 0x8000000000001fffull),
                   .cr4 = rng() & (1ull << 12),
                   .vcpus = static_cast<uint32_t>(1 + rng() % 64)};
    if (rng() % 8 == 0) in.lstar = rng();
    auto layout = shape.layout;
    layout.release.clear();  // let a random banner pass more often
    try {
      const auto g = GuestKernel::locate(layout, ram, in);
      ++located;
      exercise(g, in.vcpus);
    } catch (const LocateError& e) {
      past_lstar += std::string(e.what()).find("LSTAR") == std::string::npos ? 1 : 0;
    }
    REQUIRE(ram->reads() < kMaxReadsPerIteration);
    REQUIRE(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  }
  spdlog::info("guest_kernel fuzz (random RAM): located {} of {}, {} refused after LSTAR was mapped", located,
               kIterations, past_lstar);
}

TEST_CASE("a made-up kernel with random words overwritten: locate and samples end bounded without crashing") {
  std::printf("guest_kernel corruption fuzz seed %#x\n", kSeed + 1);
  std::mt19937_64 rng(kSeed + 1);
  int located = 0, runnable_flagged = 0, curr_unreadable = 0;
  for (int i = 0; i < kIterations; ++i) {
    CAPTURE(kSeed + 1, i);
    SyntheticKernel k({.five_level = (i % 3 == 0), .percpu_zero_based = (i % 4 != 1)});
    std::vector<uint64_t> tasks;
    for (int t = 0; t < 6; ++t) tasks.push_back(k.add_task(300 + t, "fuzzed", 7, t));
    k.set_runnable(0, {tasks[0], tasks[1], tasks[2]});
    k.set_runnable(2, {tasks[3], tasks[4]});
    k.write_u64(k.rq(1) + k.layout.rq.curr.offset, tasks[5]);

    const auto pages = k.ram->page_addresses();
    const int corruptions = 1 + static_cast<int>(rng() % 24);
    for (int c = 0; c < corruptions; ++c) {
      // Half the words hit the runqueues and tasks the samplers read, half land anywhere.
      uint64_t at = 0;
      switch (rng() % 4) {
        case 0: at = k.pa_of(k.rq(static_cast<uint32_t>(rng() % k.options.cpus)) + (rng() % 0x800 & ~7ull)); break;
        case 1: at = k.pa_of(tasks[rng() % tasks.size()] + (rng() % 0x800 & ~7ull)); break;
        default: at = pages[rng() % pages.size()] + (rng() % 4096 & ~7ull); break;
      }
      uint64_t value = rng();
      switch (rng() % 6) {
        case 0: value = 0; break;
        case 1: value = ~0ull; break;
        case 2: value = k.runnable_node(tasks[rng() % tasks.size()]) + (rng() % 4 == 0 ? rng() % 8 : 0); break;
        case 3: value = k.page_offset_base + rng() % (SyntheticKernel::kRamSize * 2); break;
        case 4: value = rng() % 4096; break;
        default: break;
      }
      k.ram->write_u64(at, value);
    }
    const uint64_t reads_before = k.ram->reads();
    const auto start = std::chrono::steady_clock::now();
    try {
      const auto g = GuestKernel::locate(k.layout, k.ram, k.input());
      ++located;
      exercise(g, k.options.cpus);
      runnable_flagged += g.sample_cpu(0).runnable_ok ? 0 : 1;
      curr_unreadable += g.sample_cpu(1).curr.ok ? 0 : 1;
    } catch (const LocateError&) {
    }
    REQUIRE(k.ram->reads() - reads_before < kMaxReadsPerIteration);
    REQUIRE(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  }
  spdlog::info("guest_kernel fuzz (corrupted kernel): located {} of {}, CPU 0's runnable list flagged {} times, "
               "CPU 1's curr unreadable {} times", located, kIterations, runnable_flagged, curr_unreadable);
  CHECK(located > 0);  // the corruption leaves some kernels locatable, so the samplers ran
}

TEST_CASE("a made-up kernel's BPF maps with random words overwritten: the map reader ends bounded without crashing") {
  std::printf("guest_kernel BPF corruption fuzz seed %#x\n", kSeed + 2);
  std::mt19937_64 rng(kSeed + 2);
  const auto program = scheduler_btf();
  int walked = 0;
  for (int i = 0; i < kIterations / 4; ++i) {
    CAPTURE(kSeed + 2, i);
    SyntheticKernel k;
    const uint64_t btf = k.add_btf(program.raw);
    std::vector<uint8_t> bss(40, 1), key(4, 2), value(16, 3);
    const uint64_t a = k.add_array_map(1, "fuzz.bss", 2, 40, 1, btf, program.bss, {bss});
    const uint64_t h = k.add_hash_map(2, "fuzz_hash", 4, 16, 4, btf, program.u32, program.task_ctx,
                                      {{0, key, value}, {0, key, value}, {3, key, value}});
    const uint64_t p = k.add_array_map(3, "fuzz_pcpu", 6, 16, 2, btf, program.task_ctx, {value, value});
    const uint64_t node = k.set_map_idr({0, a, h, p});
    const uint64_t data = k.read_u64(btf + k.layout.bpf.btf_data.offset);
    const uint64_t targets[] = {a, h, p, node, btf, data, k.read_u64(h + k.layout.bpf.htab_buckets.offset)};
    const int corruptions = 1 + static_cast<int>(rng() % 16);
    for (int c = 0; c < corruptions; ++c) {
      const uint64_t at = k.pa_of(targets[rng() % std::size(targets)]) + (rng() % 0x240 & ~3ull);
      uint64_t value64 = rng();
      switch (rng() % 5) {
        case 0: value64 = 0; break;
        case 1: value64 = targets[rng() % std::size(targets)] | (rng() % 4); break;
        case 2: value64 = rng() % 70000; break;
        default: break;
      }
      if (rng() & 1) k.ram->write_u32(at, static_cast<uint32_t>(value64));
      else k.ram->write_u64(at & ~7ull, value64);
    }
    const auto g = GuestKernel::locate(k.layout, k.ram, k.input());
    const uint64_t reads_before = k.ram->reads();
    const auto start = std::chrono::steady_clock::now();
    exercise(g, k.options.cpus);
    const auto s = g.read_bpf_maps();
    walked += s.maps.size() == 3 ? 1 : 0;
    REQUIRE(k.ram->reads() - reads_before < 2 * kMaxReadsPerIteration);
    REQUIRE(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  }
  CHECK(walked > 0);
}
