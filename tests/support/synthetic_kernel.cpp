#include "tests/support/synthetic_kernel.hpp"

#include <bpf/btf.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace ktstr::guest_kernel::testing {

bool SparseRam::read(uint64_t gpa, std::span<uint8_t> out) const {
  ++reads_;
  if (gpa >= size_ || out.size() > size_ - gpa) return false;
  size_t done = 0;
  while (done < out.size()) {
    const uint64_t at = gpa + done;
    const size_t offset = at % 4096;
    const size_t chunk = std::min(out.size() - done, 4096 - offset);
    if (auto it = pages_.find(at - offset); it != pages_.end())
      std::memcpy(out.data() + done, it->second.data() + offset, chunk);
    else
      std::memset(out.data() + done, 0, chunk);
    done += chunk;
  }
  return true;
}

void SparseRam::write(uint64_t gpa, std::span<const uint8_t> bytes) {
  if (gpa >= size_ || bytes.size() > size_ - gpa) throw std::out_of_range("test write outside the sparse RAM");
  size_t done = 0;
  while (done < bytes.size()) {
    const uint64_t at = gpa + done;
    const size_t offset = at % 4096;
    const size_t chunk = std::min(bytes.size() - done, 4096 - offset);
    auto [it, fresh] = pages_.try_emplace(at - offset);
    if (fresh) it->second.fill(0);
    std::memcpy(it->second.data() + offset, bytes.data() + done, chunk);
    done += chunk;
  }
}

void SparseRam::write_u64(uint64_t gpa, uint64_t value) {
  uint8_t b[8];
  std::memcpy(b, &value, 8);
  write(gpa, b);
}

void SparseRam::write_u32(uint64_t gpa, uint32_t value) {
  uint8_t b[4];
  std::memcpy(b, &value, 4);
  write(gpa, b);
}

std::vector<uint64_t> SparseRam::page_addresses() const {
  std::vector<uint64_t> out;
  for (const auto& [pa, page] : pages_) out.push_back(pa);
  return out;
}

PageTableBuilder::PageTableBuilder(SparseRam& ram, uint64_t root_pa, bool five_level, uint64_t& next_table_pa)
    : ram_(ram), root_(root_pa), five_level_(five_level), next_table_pa_(next_table_pa) {}

uint64_t PageTableBuilder::table_at(uint64_t va, int level) {
  uint64_t table = root_;
  for (int l = five_level_ ? 5 : 4; l > level; --l) {
    const uint64_t slot = table + ((va >> (12 + 9 * (l - 1))) & 511) * 8;
    uint8_t b[8];
    ram_.read(slot, b);
    uint64_t entry;
    std::memcpy(&entry, b, 8);
    if (!(entry & 1)) {
      entry = next_table_pa_ | kPresentWritable;
      next_table_pa_ += 4096;
      ram_.write_u64(slot, entry);
    }
    table = entry & 0x000FFFFFFFFFF000ull;
  }
  return table;
}

void PageTableBuilder::map_4k(uint64_t va, uint64_t pa, uint64_t extra) {
  ram_.write_u64(table_at(va, 1) + ((va >> 12) & 511) * 8, pa | kPresentWritable | extra);
}
void PageTableBuilder::map_2m(uint64_t va, uint64_t pa, uint64_t extra) {
  ram_.write_u64(table_at(va, 2) + ((va >> 21) & 511) * 8, pa | kPresentWritable | kLargeLeaf | extra);
}
void PageTableBuilder::map_1g(uint64_t va, uint64_t pa, uint64_t extra) {
  ram_.write_u64(table_at(va, 3) + ((va >> 30) & 511) * 8, pa | kPresentWritable | kLargeLeaf | extra);
}

namespace {

// The made-up kernel's link-time offsets from _text.
constexpr uint64_t kEntryOffset = 0x00c00040;
constexpr uint64_t kBannerOffset = 0x01100200;
constexpr uint64_t kDataOffset = 0x01400000;
constexpr uint64_t kSwapperPgdOffset = 0x01800000;
constexpr uint64_t kImageMapped = 32 * kMiB;
constexpr uint64_t kVmallocArea = 0xffffc90001000000ull;
constexpr uint64_t kVmallocAreaL5 = 0xffa0000001000000ull;

Field f(uint32_t offset, uint32_t size) { return Field{offset, size}; }

}  // namespace

SyntheticKernel::SyntheticKernel(SyntheticOptions opts) : ram(std::make_shared<SparseRam>(kRamSize)), options(opts) {
  auto& s = layout.symbols;
  const uint64_t data = kTextLink + kDataOffset;
  layout.release = options.release;
  s.text = kTextLink;
  s.entry_syscall_64 = kTextLink + kEntryOffset;
  s.linux_banner = kTextLink + kBannerOffset;
  s.page_offset_base = data + 0x10;
  s.pgtable_l5_enabled = data + 0x18;
  s.per_cpu_offset = data + 0x100;
  s.cpu_online_mask = data + 0x200;
  s.nr_cpu_ids = data + 0x240;
  s.jiffies_64 = data + 0x300;
  s.init_top_pgt = kTextLink + kSwapperPgdOffset;
  layout.nr_cpus_max = 16;
  layout.percpu_zero_based = options.percpu_zero_based;
  layout.runqueues = options.percpu_zero_based ? 0x2f000 : kTextLink + 0x2000000 + 0x2f000;
  layout.rq = {.size = 0x800, .nr_running = f(0x4, 4), .cfs_nr_running = f(0x90, 4), .cfs_h_nr_queued = f(0x94, 4),
               .scx_local_dsq_nr = f(0x400, 4), .scx_runnable_list = f(0x420, 16), .scx_nr_running = f(0x440, 4),
               .scx_flags = f(0x444, 4), .curr = f(0x600, 8), .clock = f(0x640, 8), .cpu = f(0x700, 4)};
  layout.task = {.pid = f(0x100, 4), .comm = f(0x200, 16), .policy = f(0x210, 4), .state = f(0x18, 4),
                 .scx_runnable_node = f(0x300, 16), .scx_runnable_at = f(0x310, 8), .scx_flags = f(0x320, 4)};
  if (options.sched_ext) {
    s.scx_watchdog_timeout = data + 0x340;
    s.scx_exit_kind = data + 0x380;
    s.scx_ops_enable_state_var = data + 0x384;
    s.scx_ops = data + 0x400;
    s.scx_exit_info = data + 0x3c0;
    layout.exit_info = {.kind = f(0x0, 4), .exit_code = f(0x8, 8), .reason = f(0x10, 8), .bt = f(0x18, 8),
                        .bt_len = f(0x20, 4), .msg = f(0x28, 8)};
    layout.ops_name = f(0x80, 64);
    layout.ops_timeout_ms = f(0x70, 4);
  } else {
    layout.rq.scx_local_dsq_nr = layout.rq.scx_runnable_list = layout.rq.scx_nr_running = layout.rq.scx_flags = {};
    layout.task.scx_runnable_node = layout.task.scx_runnable_at = layout.task.scx_flags = {};
    layout.missing = {{"rq.scx", "rq.scx: not in this kernel's BTF"},
                      {"task_struct.scx", "task_struct.scx: not in this kernel's BTF"},
                      {"scx_exit_kind", "scx_exit_kind: no such symbol"},
                      {"scx_ops", "scx_ops: no such symbol"}};
  }

  // BPF: map_idr and made-up struct layouts (not a real kernel's offsets).
  s.map_idr = data + 0x600;
  layout.bpf = {.idr_xa_head = f(0x8, 8), .xa_node_shift = f(0x0, 1), .xa_node_slots = f(0x28, 512),
                .map_name = f(0x68, 16), .map_type = f(0x10, 4), .key_size = f(0x14, 4), .value_size = f(0x18, 4),
                .max_entries = f(0x1c, 4), .map_flags = f(0x20, 4), .id = f(0x24, 4), .btf = f(0x58, 8),
                .btf_key_type_id = f(0x40, 4), .btf_value_type_id = f(0x44, 4), .array_map = f(0x0, 0xc0),
                .array_elem_size = f(0xc8, 4), .array_value = f(0x100, 1), .btf_data = f(0x8, 8),
                .btf_data_size = f(0x60, 4), .htab_map = f(0x0, 0xc0), .htab_buckets = f(0x110, 8),
                .htab_n_buckets = f(0x208, 4), .bucket_head = f(0x0, 8), .elem_hash_node = f(0x0, 8),
                .elem_key = f(0x28, 1), .bucket_size = 16};

  // Page tables: the swapper PGD (8 KiB, PTI-style) maps the image with 2 MiB pages, the
  // direct map with one 1 GiB page, and the vmalloc pages below with 4 KiB pages.
  const bool l5 = options.five_level;
  page_offset_base = (l5 ? 0xff11000000000000ull : 0xffff888000000000ull) + options.page_offset_step * kGiB;
  swapper_pgd_pa = options.pa_text + kSwapperPgdOffset;
  pti_user_pgd_pa = swapper_pgd_pa + 0x1000;
  next_table_pa_ = 128 * kMiB;
  next_task_pa_ = 384 * kMiB;
  PageTableBuilder kernel(*ram, swapper_pgd_pa, l5, next_table_pa_);
  PageTableBuilder user(*ram, pti_user_pgd_pa, l5, next_table_pa_);
  for (uint64_t off = 0; off < kImageMapped; off += 2 * kMiB) {
    kernel.map_2m(image_va(kTextLink) + off, options.pa_text + off, kPatLarge);
    user.map_2m(image_va(kTextLink) + off, options.pa_text + off);
  }
  kernel.map_1g(page_offset_base, 0, kNoExecute);

  // Per-CPU areas: in the direct map at 256 MiB + cpu MiB, the last CPU's in vmalloc.
  for (uint32_t cpu = 0; cpu < options.cpus; ++cpu) {
    const uint64_t area_pa = 256 * kMiB + cpu * kMiB;
    uint64_t area = page_offset_base + area_pa;
    if (cpu + 1 == options.cpus && cpu > 0) {
      area = (l5 ? kVmallocAreaL5 : kVmallocArea) + cpu * 0x100000;
      for (uint64_t page = 0x2f000; page < 0x31000; page += 4096) {
        kernel.map_4k(area + page, area_pa + page, kNoExecute);
        vmalloc_pages_[area + page] = area_pa + page;
      }
    }
    const uint64_t rq_va = area + 0x2f000;
    const uint64_t offset = options.percpu_zero_based ? area : rq_va - (layout.runqueues + options.slide);
    rq_va_.push_back(rq_va);
    write_u64(image_va(s.per_cpu_offset) + 8 * cpu, offset);
    write_u32(rq_va + layout.rq.cpu.offset, cpu);
    write_u32(rq_va + layout.rq.nr_running.offset, 10 + cpu);
    write_u32(rq_va + layout.rq.cfs_h_nr_queued.offset, 20 + cpu);
    write_u64(rq_va + layout.rq.clock.offset, 1'000'000'007ull * (cpu + 1));
    if (options.sched_ext) {
      write_u32(rq_va + layout.rq.scx_nr_running.offset, 30 + cpu);
      write_u32(rq_va + layout.rq.scx_local_dsq_nr.offset, 40 + cpu);
      write_u32(rq_va + layout.rq.scx_flags.offset, 1);  // SCX_RQ_ONLINE
      set_runnable(cpu, {});
    }
  }
  write_u32(image_va(s.nr_cpu_ids), options.cpus);
  write_u64(image_va(s.cpu_online_mask), (1ull << options.cpus) - 1);
  write_u64(image_va(s.page_offset_base), page_offset_base);
  write_u32(image_va(s.pgtable_l5_enabled), l5 ? 1 : 0);
  write_u64(image_va(s.jiffies_64), 0x1'0000'2468ull);
  write_string(image_va(s.linux_banner), "Linux version " + options.release +
                                             " (tests@ktstr) (gcc 12.2.0) #1 SMP PREEMPT_DYNAMIC\n");
  if (options.sched_ext) {
    write_u64(image_va(s.scx_watchdog_timeout), 7500);
    write_u32(image_va(s.scx_exit_kind), 0);
    write_u32(image_va(s.scx_ops_enable_state_var), 1);
    write_string(image_va(s.scx_ops) + layout.ops_name.offset, "synthetic_lavd");
  }
}

LocateInput SyntheticKernel::input() const {
  return {.lstar = image_va(layout.symbols.entry_syscall_64),
          .cr3 = swapper_pgd_pa,
          .cr4 = 0x350ef0ull | (options.five_level ? 1ull << 12 : 0),
          .vcpus = options.cpus};
}

uint64_t SyntheticKernel::rq(uint32_t cpu) const { return rq_va_.at(cpu); }

uint64_t SyntheticKernel::pa_of(uint64_t va) const {
  const uint64_t image = image_va(kTextLink);
  if (va - image < kImageMapped) return va - image + options.pa_text;
  if (va - page_offset_base < kRamSize) return va - page_offset_base;
  if (auto it = vmalloc_pages_.find(va & ~0xFFFull); it != vmalloc_pages_.end()) return it->second + (va & 0xFFF);
  throw std::out_of_range("the synthetic kernel does not map this VA");
}

uint64_t SyntheticKernel::read_u64(uint64_t va) const {
  uint8_t raw[8];
  ram->read(pa_of(va), raw);
  uint64_t v;
  std::memcpy(&v, raw, 8);
  return v;
}

void SyntheticKernel::write_u64(uint64_t va, uint64_t value) { ram->write_u64(pa_of(va), value); }
void SyntheticKernel::write_u32(uint64_t va, uint32_t value) { ram->write_u32(pa_of(va), value); }
void SyntheticKernel::write_string(uint64_t va, const std::string& text) {
  std::vector<uint8_t> bytes(text.begin(), text.end());
  bytes.push_back(0);
  ram->write(pa_of(va), bytes);
}

uint64_t SyntheticKernel::add_task(int32_t pid, const std::string& comm, uint32_t policy, uint64_t runnable_at) {
  const uint64_t task = page_offset_base + next_task_pa_;
  next_task_pa_ += 0x800;
  write_u32(task + layout.task.pid.offset, static_cast<uint32_t>(pid));
  write_string(task + layout.task.comm.offset, comm.substr(0, 15));
  write_u32(task + layout.task.policy.offset, policy);
  if (layout.task.scx_runnable_at.present()) write_u64(task + layout.task.scx_runnable_at.offset, runnable_at);
  return task;
}

uint64_t SyntheticKernel::set_exit_info(uint32_t kind, int64_t exit_code, const std::string& reason,
                                        const std::string& msg, const std::vector<uint64_t>& backtrace) {
  const uint64_t info = page_offset_base + next_task_pa_;
  next_task_pa_ += 0x2000;
  const uint64_t reason_va = info + 0x100, bt_va = info + 0x200, msg_va = info + 0x600;
  const auto& ei = layout.exit_info;
  write_u32(info + ei.kind.offset, kind);
  write_u64(info + ei.exit_code.offset, static_cast<uint64_t>(exit_code));
  write_u64(info + ei.reason.offset, reason_va);
  write_string(reason_va, reason);
  write_u64(info + ei.bt.offset, bt_va);
  write_u32(info + ei.bt_len.offset, static_cast<uint32_t>(backtrace.size()));
  for (size_t i = 0; i < backtrace.size(); ++i) write_u64(bt_va + 8 * i, backtrace[i]);
  write_u64(info + ei.msg.offset, msg_va);
  write_string(msg_va, msg);
  write_u64(image_va(layout.symbols.scx_exit_info), info);
  return info;
}

namespace {
void check(int libbpf_result) {
  if (libbpf_result != 0) throw std::runtime_error("libbpf refused a BTF the test builds");
}
}  // namespace


SchedulerBtf scheduler_btf() {
  SchedulerBtf p;
  struct btf* b = btf__new_empty();
  if (!b) throw std::runtime_error("btf__new_empty failed");
  p.u64 = btf__add_int(b, "unsigned long long", 8, 0);
  const int s32 = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
  p.u32 = btf__add_int(b, "unsigned int", 4, 0);
  const int ch = btf__add_int(b, "char", 1, BTF_INT_SIGNED);
  const int comm = btf__add_array(b, p.u32, ch, 8);
  const int lat = btf__add_array(b, p.u32, s32, 3);
  const int v1 = btf__add_var(b, "nr_enqueued", BTF_VAR_GLOBAL_ALLOCATED, p.u64);
  const int v2 = btf__add_var(b, "nr_dispatched", BTF_VAR_GLOBAL_ALLOCATED, p.u64);
  const int v3 = btf__add_var(b, "comm", BTF_VAR_GLOBAL_ALLOCATED, comm);
  const int v4 = btf__add_var(b, "lat", BTF_VAR_GLOBAL_ALLOCATED, lat);
  p.bss = btf__add_datasec(b, ".bss", 40);
  check(btf__add_datasec_var_info(b, v1, 0, 8));
  check(btf__add_datasec_var_info(b, v2, 8, 8));
  check(btf__add_datasec_var_info(b, v3, 16, 8));
  check(btf__add_datasec_var_info(b, v4, 24, 12));
  p.task_ctx = btf__add_struct(b, "task_ctx", 16);
  check(btf__add_field(b, "weight", p.u64, 0, 0));
  check(btf__add_field(b, "cpu", s32, 64, 0));
  check(btf__add_field(b, "flags", p.u32, 96, 4));
  check(btf__add_field(b, "mode", p.u32, 100, 4));
  uint32_t size = 0;
  const auto* data = static_cast<const uint8_t*>(btf__raw_data(b, &size));
  if (!data) throw std::runtime_error("btf__raw_data failed");
  p.raw.assign(data, data + size);
  btf__free(b);
  return p;
}


uint64_t SyntheticKernel::alloc(uint64_t size) {
  const uint64_t va = page_offset_base + next_task_pa_;
  next_task_pa_ += (size + 0xFFF) & ~0xFFFull;
  if (next_task_pa_ > kRamSize) throw std::out_of_range("the synthetic kernel's RAM is used up");
  return va;
}

void SyntheticKernel::write_bytes(uint64_t va, const std::vector<uint8_t>& bytes) { ram->write(pa_of(va), bytes); }

uint64_t SyntheticKernel::add_btf(const std::vector<uint8_t>& raw) {
  const uint64_t btf = alloc(0x100);
  const uint64_t data = alloc(raw.size());
  write_bytes(data, raw);
  write_u64(btf + layout.bpf.btf_data.offset, data);
  write_u32(btf + layout.bpf.btf_data_size.offset, static_cast<uint32_t>(raw.size()));
  return btf;
}

namespace {
void write_map_header(SyntheticKernel& k, uint64_t map, uint32_t id, const std::string& name, uint32_t type,
                      uint32_t key_size, uint32_t value_size, uint32_t max_entries, uint64_t btf, uint32_t key_type_id,
                      uint32_t value_type_id) {
  const auto& b = k.layout.bpf;
  k.write_u32(map + b.id.offset, id);
  k.write_u32(map + b.map_type.offset, type);
  k.write_u32(map + b.key_size.offset, key_size);
  k.write_u32(map + b.value_size.offset, value_size);
  k.write_u32(map + b.max_entries.offset, max_entries);
  k.write_u64(map + b.btf.offset, btf);
  k.write_u32(map + b.btf_key_type_id.offset, key_type_id);
  k.write_u32(map + b.btf_value_type_id.offset, value_type_id);
  k.write_string(map + b.map_name.offset, name.substr(0, 15));
}
}  // namespace

uint64_t SyntheticKernel::add_array_map(uint32_t id, const std::string& name, uint32_t type, uint32_t value_size,
                                        uint32_t max_entries, uint64_t btf, uint32_t value_type_id,
                                        const std::vector<std::vector<uint8_t>>& values) {
  const auto& b = layout.bpf;
  const uint32_t elem = (value_size + 7) & ~7u;
  const bool percpu = type == 6;  // BPF_MAP_TYPE_PERCPU_ARRAY
  const uint64_t array = alloc(b.array_value.offset + uint64_t{max_entries} * (percpu ? 8 : elem));
  write_map_header(*this, array + b.array_map.offset, id, name, type, 4, value_size, max_entries, btf, 0, value_type_id);
  write_u32(array + b.array_elem_size.offset, elem);
  for (size_t i = 0; i < values.size(); ++i) {
    if (!percpu) {
      write_bytes(array + b.array_value.offset + i * elem, values[i]);
      continue;
    }
    // The per-CPU copy of CPU 0: a __percpu pointer that __per_cpu_offset[0] turns into an address.
    const uint64_t copy = alloc(elem);
    write_bytes(copy, values[i]);
    const uint64_t cpu0 = read_u64(image_va(layout.symbols.per_cpu_offset));
    write_u64(array + b.array_value.offset + 8 * i, copy - cpu0);
  }
  return array + b.array_map.offset;
}

uint64_t SyntheticKernel::add_hash_map(uint32_t id, const std::string& name, uint32_t key_size, uint32_t value_size,
                                       uint32_t n_buckets, uint64_t btf, uint32_t key_type_id, uint32_t value_type_id,
                                       const std::vector<HashEntry>& entries) {
  const auto& b = layout.bpf;
  const uint64_t htab = alloc(0x400);
  write_map_header(*this, htab + b.htab_map.offset, id, name, 1, key_size, value_size, 1024, btf, key_type_id,
                   value_type_id);
  const uint64_t buckets = alloc(uint64_t{n_buckets} * b.bucket_size);
  write_u64(htab + b.htab_buckets.offset, buckets);
  write_u32(htab + b.htab_n_buckets.offset, n_buckets);
  for (uint32_t i = 0; i < n_buckets; ++i) write_u64(buckets + i * b.bucket_size + b.bucket_head.offset, (i << 1) | 1);
  for (const auto& e : entries) {
    const uint64_t elem = alloc(b.elem_key.offset + ((key_size + 7) & ~7u) + value_size);
    const uint64_t node = elem + b.elem_hash_node.offset;
    const uint64_t head = buckets + (e.bucket % n_buckets) * b.bucket_size + b.bucket_head.offset;
    write_u64(node, read_u64(head));  // push front: hlist_nulls_add_head
    write_u64(head, node);
    write_bytes(elem + b.elem_key.offset, e.key);
    write_bytes(elem + b.elem_key.offset + ((key_size + 7) & ~7u), e.value);
  }
  return htab + b.htab_map.offset;
}

uint64_t SyntheticKernel::add_plain_map(uint32_t id, const std::string& name, uint32_t type) {
  const uint64_t map = alloc(0x200);
  write_map_header(*this, map, id, name, type, 4, 4, 1, 0, 0, 0);
  return map;
}

uint64_t SyntheticKernel::set_map_idr(const std::vector<uint64_t>& maps) {
  const auto& b = layout.bpf;
  const uint64_t node = alloc(0x240);
  write_u32(node + b.xa_node_shift.offset, 0);
  for (size_t i = 0; i < maps.size() && i < 64; ++i) write_u64(node + b.xa_node_slots.offset + 8 * i, maps[i]);
  write_u64(image_va(layout.symbols.map_idr) + b.idr_xa_head.offset, node | 2);
  return node;
}

void SyntheticKernel::set_runnable(uint32_t cpu, const std::vector<uint64_t>& tasks) {
  const uint64_t head = rq(cpu) + layout.rq.scx_runnable_list.offset;
  uint64_t prev = head;
  for (uint64_t task : tasks) {
    const uint64_t node = runnable_node(task);
    write_u64(prev, node);       // prev->next
    write_u64(node + 8, prev);   // node->prev
    prev = node;
  }
  write_u64(prev, head);
  write_u64(head + 8, prev);
}

}  // namespace ktstr::guest_kernel::testing
