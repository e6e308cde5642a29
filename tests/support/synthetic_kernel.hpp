#pragma once
// Crafted guest memory for the live-kernel readers: sparse RAM, page tables built by hand,
// and a made-up kernel (its own offsets, not a real build's) with a KASLR slide, runqueues
// and tasks. Every figure the tests assert comes from here, so they can fail.
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "kvm/guest_kernel/guest_kernel.hpp"

namespace ktstr::guest_kernel::testing {

inline constexpr uint64_t kMiB = 1ull << 20;
inline constexpr uint64_t kGiB = 1ull << 30;

/// RAM of `size` bytes at GPA 0, stored by 4 KiB page; unwritten pages read as zeros.
class SparseRam final : public PhysicalMemory {
 public:
  explicit SparseRam(uint64_t size) : size_(size) {}
  bool read(uint64_t gpa, std::span<uint8_t> out) const override;
  void write(uint64_t gpa, std::span<const uint8_t> bytes);
  void write_u64(uint64_t gpa, uint64_t value);
  void write_u32(uint64_t gpa, uint32_t value);
  uint64_t size() const { return size_; }
  std::vector<uint64_t> page_addresses() const;
  uint64_t reads() const { return reads_; }

 private:
  uint64_t size_;
  std::map<uint64_t, std::array<uint8_t, 4096>> pages_;
  mutable uint64_t reads_ = 0;
};

/// Page-table entry flags.
inline constexpr uint64_t kPresentWritable = 0x3;
inline constexpr uint64_t kLargeLeaf = 0x80;
inline constexpr uint64_t kPatLarge = 1ull << 12;
inline constexpr uint64_t kNoExecute = 1ull << 63;

/// Builds x86_64 page tables in a SparseRam, tables taken from a bump allocator.
class PageTableBuilder {
 public:
  PageTableBuilder(SparseRam& ram, uint64_t root_pa, bool five_level, uint64_t& next_table_pa);
  void map_4k(uint64_t va, uint64_t pa, uint64_t extra_flags = 0);
  void map_2m(uint64_t va, uint64_t pa, uint64_t extra_flags = 0);
  void map_1g(uint64_t va, uint64_t pa, uint64_t extra_flags = 0);
  uint64_t root() const { return root_; }

 private:
  /// The table holding the entry for va at `level` (1 = PTE), made on the way down.
  uint64_t table_at(uint64_t va, int level);
  SparseRam& ram_;
  uint64_t root_;
  bool five_level_;
  uint64_t& next_table_pa_;
};

struct SyntheticOptions {
  bool five_level = false;
  bool sched_ext = true;       ///< false: a 6.1-like kernel (no rq.scx, no scx_* symbols)
  bool percpu_zero_based = true;
  uint64_t slide = 100 * kMiB;
  uint64_t pa_text = 64 * kMiB;
  uint64_t page_offset_step = 5;  ///< page_offset_base = the L4/L5 base + this many GiB
  uint32_t cpus = 3;              ///< online CPUs 0..cpus-1; the last one's per-CPU area is vmalloc
  std::string release = "6.12.99-synthetic";
};

/// A program BTF (built with libbpf) like a sched_ext scheduler's: a .bss DATASEC (u64 nr_enqueued, u64
/// nr_dispatched, char comm[8], int lat[3]) and struct task_ctx { u64 weight; int cpu; u32 flags:4, mode:4; }.
struct SchedulerBtf {
  std::vector<uint8_t> raw;
  int u32 = 0, u64 = 0, bss = 0, task_ctx = 0;
};
SchedulerBtf scheduler_btf();

/// A made-up kernel in 512 MiB of sparse RAM.
class SyntheticKernel {
 public:
  explicit SyntheticKernel(SyntheticOptions options = {});

  static constexpr uint64_t kTextLink = 0xffffffff81000000ull;
  static constexpr uint64_t kRamSize = 512 * kMiB;

  std::shared_ptr<SparseRam> ram;
  KernelLayout layout;
  SyntheticOptions options;
  uint64_t page_offset_base = 0;
  uint64_t swapper_pgd_pa = 0;
  uint64_t pti_user_pgd_pa = 0;

  LocateInput input() const;
  uint64_t image_va(uint64_t link) const { return link + options.slide; }
  /// VA of CPU c's struct rq.
  uint64_t rq(uint32_t cpu) const;
  /// A task in the direct map; returns its VA.
  uint64_t add_task(int32_t pid, const std::string& comm, uint32_t policy, uint64_t runnable_at);
  /// A struct scx_exit_info in the direct map (reason, msg and backtrace beside it), and
  /// scx_exit_info pointing at it; returns its VA.
  uint64_t set_exit_info(uint32_t kind, int64_t exit_code, const std::string& reason, const std::string& msg,
                         const std::vector<uint64_t>& backtrace);
  /// BPF maps (bpf_maps.hpp). A program BTF blob in the direct map behind a struct btf;
  /// returns the struct btf's VA.
  uint64_t add_btf(const std::vector<uint8_t>& raw);
  /// A struct bpf_array (ARRAY or PERCPU_ARRAY) holding `values` (value_size bytes each, for
  /// PERCPU_ARRAY CPU 0's copy); returns the struct bpf_map's VA.
  uint64_t add_array_map(uint32_t id, const std::string& name, uint32_t type, uint32_t value_size, uint32_t max_entries,
                         uint64_t btf, uint32_t value_type_id, const std::vector<std::vector<uint8_t>>& values);
  /// A struct bpf_htab (HASH) with n_buckets buckets; entries go into bucket (index % n_buckets).
  struct HashEntry {
    uint32_t bucket;
    std::vector<uint8_t> key, value;
  };
  uint64_t add_hash_map(uint32_t id, const std::string& name, uint32_t key_size, uint32_t value_size, uint32_t n_buckets,
                        uint64_t btf, uint32_t key_type_id, uint32_t value_type_id, const std::vector<HashEntry>& entries);
  /// A map of another type (metadata only).
  uint64_t add_plain_map(uint32_t id, const std::string& name, uint32_t type);
  /// map_idr holds these maps: one xa_node of shift 0, slot i = maps[i]; returns the node's VA.
  uint64_t set_map_idr(const std::vector<uint64_t>& maps);
  /// Zeroed direct-map memory of `size` bytes (8-byte aligned); returns its VA.
  uint64_t alloc(uint64_t size);
  void write_bytes(uint64_t va, const std::vector<uint8_t>& bytes);

  /// Links rq(cpu)->scx.runnable_list through these tasks, in order.
  void set_runnable(uint32_t cpu, const std::vector<uint64_t>& tasks);
  uint64_t runnable_node(uint64_t task) const { return task + layout.task.scx_runnable_node.offset; }

  /// Writes through this kernel's own map of VAs (image, direct map, the vmalloc pages it mapped).
  void write_u64(uint64_t va, uint64_t value);
  uint64_t read_u64(uint64_t va) const;
  void write_u32(uint64_t va, uint32_t value);
  void write_string(uint64_t va, const std::string& text);
  uint64_t pa_of(uint64_t va) const;

 private:
  uint64_t next_table_pa_ = 0;
  uint64_t next_task_pa_ = 0;
  std::map<uint64_t, uint64_t> vmalloc_pages_;  // VA page -> PA page
  std::vector<uint64_t> rq_va_;
};

}  // namespace ktstr::guest_kernel::testing
