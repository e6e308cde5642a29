// GuestKernel::read_bpf_maps: every BPF map in map_idr (kernel/bpf/syscall.c), its
// metadata, and the entries of array and hash maps rendered with the program's BTF
// (struct bpf_map.btf -> struct btf.data/data_size, parsed by libbpf). Guest memory is
// hostile here like everywhere: pointers validated, loops and sizes capped (bpf_maps.hpp).
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <spdlog/fmt/fmt.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "kvm/guest_kernel/guest_kernel.hpp"
#include "kvm/guest_kernel/xarray_walk.hpp"

namespace ktstr::guest_kernel {
namespace {

constexpr uint32_t kMaxKeyBytes = 512;      // MAX_BPF_STACK: the kernel's own bound on a hash key
constexpr uint32_t kMaxChain = 256;         // elements followed in one hash bucket
constexpr uint32_t kMaxHashVisits = 4096;   // elements visited in one hash map
constexpr uint32_t kBucketChunk = 256;      // buckets read at once
constexpr size_t kMaxProblems = 32;

uint64_t round_up8(uint64_t v) { return (v + 7) & ~7ull; }

struct BtfFree {
  void operator()(struct btf* b) const { btf__free(b); }
};

struct ProgramBtf {
  std::unique_ptr<struct btf, BtfFree> btf;
  std::string why;  ///< when !btf
};

class MapReader {
 public:
  MapReader(const KernelAddressSpace& space, const KernelLayout::Bpf& layout, const Located& located)
      : space_(space), l_(layout), located_(located) {}

  BpfMap read(uint64_t address) {
    BpfMap m;
    m.address = address;
    auto u32 = [&](const Field& f) -> uint32_t {
      if (!f.present()) return 0;
      const auto r = space_.read_u32(address + f.offset);
      return r.ok ? static_cast<uint32_t>(r.value) : 0;
    };
    const auto id = space_.read_u32(address + l_.id.offset);
    const auto type = space_.read_u32(address + l_.map_type.offset);
    if (!id.ok || !type.ok) {
      m.entries_note = fmt::format("struct bpf_map at {:#x} is unreadable", address);
      return m;
    }
    m.id = static_cast<uint32_t>(id.value);
    m.type = static_cast<uint32_t>(type.value);
    const char* type_name = libbpf_bpf_map_type_str(static_cast<enum bpf_map_type>(m.type));
    m.type_name = type_name ? type_name : fmt::format("unknown({})", m.type);
    m.name = space_.read_string(address + l_.map_name.offset, l_.map_name.size).value_or("<unreadable>");
    m.key_size = u32(l_.key_size);
    m.value_size = u32(l_.value_size);
    m.max_entries = u32(l_.max_entries);
    m.map_flags = u32(l_.map_flags);
    m.btf_key_type_id = u32(l_.btf_key_type_id);
    m.btf_value_type_id = u32(l_.btf_value_type_id);
    switch (m.type) {
      case BPF_MAP_TYPE_ARRAY:
      case BPF_MAP_TYPE_PERCPU_ARRAY: read_array(m); break;
      case BPF_MAP_TYPE_HASH:
      case BPF_MAP_TYPE_LRU_HASH:
      case BPF_MAP_TYPE_PERCPU_HASH:
      case BPF_MAP_TYPE_LRU_PERCPU_HASH: read_hash(m); break;
      default: m.entries_note = "metadata only: entries of a " + m.type_name + " map are not read";
    }
    return m;
  }

 private:
  bool percpu_type(const BpfMap& m) const {
    return m.type == BPF_MAP_TYPE_PERCPU_ARRAY || m.type == BPF_MAP_TYPE_PERCPU_HASH ||
           m.type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
  }

  /// The program BTF at `pointer` (struct btf *), parsed once per pointer.
  const struct btf* program_btf(uint64_t pointer, std::string& why) {
    if (pointer == 0) {
      why = "the map has no BTF";
      return nullptr;
    }
    auto [it, fresh] = btfs_.try_emplace(pointer);
    ProgramBtf& p = it->second;
    if (fresh) p.why = parse_btf(pointer, p.btf);
    why = p.why;
    return p.btf.get();
  }

  std::string parse_btf(uint64_t pointer, std::unique_ptr<struct btf, BtfFree>& out) {
    if (!l_.btf_data.present() || !l_.btf_data_size.present()) return "btf.data or btf.data_size is not in the kernel's BTF";
    if (!space_.plausible_pointer(pointer, 8)) return fmt::format("btf pointer {:#x} is not a kernel address", pointer);
    const auto data = space_.read_u64(pointer + l_.btf_data.offset);
    const auto size = space_.read_u32(pointer + l_.btf_data_size.offset);
    if (!data.ok || !size.ok) return fmt::format("struct btf at {:#x} is unreadable", pointer);
    if (size.value == 0 || !space_.plausible_pointer(data.value, 1))
      return fmt::format("struct btf at {:#x} has data {:#x} of {} bytes", pointer, data.value, size.value);
    if (size.value > kBpfMaxBtfBytes)
      return fmt::format("its BTF is {} bytes, over the cap of {} bytes", size.value, kBpfMaxBtfBytes);
    if (btf_bytes_ + size.value > kBpfMaxBtfTotal)
      return fmt::format("the BTF read for all maps reached its cap of {} bytes", kBpfMaxBtfTotal);
    btf_bytes_ += size.value;
    std::vector<uint8_t> raw(size.value);
    if (!space_.read_bytes(data.value, raw)) return fmt::format("BTF data at {:#x} is unreadable", data.value);
    struct btf* b = btf__new(raw.data(), static_cast<uint32_t>(raw.size()));
    if (!b) return std::string("libbpf refuses the map's BTF: ") + std::strerror(errno);
    out.reset(b);
    return {};
  }

  /// The map's BTF for its keys and values, or null with m.btf_note saying why.
  const struct btf* btf_for(BpfMap& m) {
    if (!l_.btf.present()) {
      m.btf_note = "bpf_map.btf is not in the kernel's BTF";
      return nullptr;
    }
    const auto pointer = space_.read_u64(m.address + l_.btf.offset);
    if (!pointer.ok) {
      m.btf_note = "bpf_map.btf is unreadable";
      return nullptr;
    }
    const struct btf* b = program_btf(pointer.value, m.btf_note);
    m.btf = b != nullptr;
    return b;
  }

  /// Renders bytes at va (value_size, capped) as type_id; one field saying why when not.
  std::vector<RenderedField> render_at(uint64_t va, uint32_t size, const struct btf* b, uint32_t type_id, bool& truncated) {
    if (fields_total_ >= kBpfMaxFieldsTotal)
      return {{"", fmt::format("<not rendered: the dump's cap of {} fields is reached>", kBpfMaxFieldsTotal)}};
    std::vector<uint8_t> bytes(std::min(size, kBpfMaxValueBytes));
    if (!space_.plausible_pointer(va, 1) || !space_.read_bytes(va, bytes))
      return {{"", fmt::format("<unreadable at {:#x}>", va)}};
    RenderLimits limits;
    limits.max_fields = kBpfMaxFieldsPerValue;
    auto r = render_btf_value(b, type_id, bytes, limits);
    truncated = r.truncated || size > kBpfMaxValueBytes;
    fields_total_ += r.fields.size();
    return std::move(r.fields);
  }

  static std::string key_text(const std::vector<RenderedField>& fields) {
    if (fields.size() == 1 && fields[0].name.empty()) return fields[0].value;
    std::string out;
    for (const auto& f : fields) out += (out.empty() ? "" : " ") + f.name + "=" + f.value;
    return out;
  }

  /// __per_cpu_offset[0], for a per-CPU map's values of CPU 0.
  std::optional<uint64_t> cpu0_offset() const {
    if (located_.cpus.empty() || located_.cpus.front() != 0 || located_.per_cpu_offset.empty()) return std::nullopt;
    return located_.per_cpu_offset[0];
  }

  /// A per-CPU map's values are read in CPU 0's copy: `cpu0` gets its per-CPU offset (left
  /// empty for other maps). False, the note saying why, when that offset is unknown.
  bool per_cpu_base(BpfMap& m, std::optional<uint64_t>& cpu0) {
    if (!percpu_type(m)) return true;
    cpu0 = cpu0_offset();
    if (!cpu0) m.entries_note = "entries not walked: CPU 0's per-CPU offset is unknown";
    return cpu0.has_value();
  }

  void read_array(BpfMap& m) {
    if (!l_.array_elem_size.present() || !l_.array_value.present()) {
      m.entries_note = "entries not walked: bpf_array.elem_size or bpf_array.value is not in the kernel's BTF";
      return;
    }
    if (m.value_size == 0) {
      m.entries_note = "entries not walked: value_size is 0";
      return;
    }
    const uint64_t array = m.address - l_.array_map.offset;
    const auto elem = space_.read_u32(array + l_.array_elem_size.offset);
    if (!elem.ok || elem.value != round_up8(m.value_size)) {
      m.entries_note = elem.ok ? fmt::format("entries not walked: elem_size {} does not fit value_size {}", elem.value, m.value_size)
                               : "entries not walked: bpf_array.elem_size is unreadable";
      return;
    }
    std::optional<uint64_t> cpu0;
    if (!per_cpu_base(m, cpu0)) return;
    if (cpu0) m.entries_note = "values of CPU 0 only";
    const struct btf* b = btf_for(m);
    const uint32_t shown = std::min<uint64_t>(m.max_entries, kBpfMaxEntries);
    m.entries_walked = true;
    m.entries_truncated = m.max_entries > shown;
    for (uint32_t i = 0; i < shown; ++i) {
      BpfEntry e;
      e.key = std::to_string(i);
      uint64_t va = array + l_.array_value.offset + uint64_t{i} * elem.value;
      if (cpu0) {
        const auto pptr = space_.read_u64(array + l_.array_value.offset + 8ull * i);
        if (!pptr.ok) {
          e.value = {{"", fmt::format("<per-CPU pointer unreadable at {:#x}>", va)}};
          m.entries.push_back(std::move(e));
          continue;
        }
        va = pptr.value + *cpu0;
      }
      e.value = render_at(va, m.value_size, b, m.btf_value_type_id, e.truncated);
      m.entries.push_back(std::move(e));
    }
  }

  void read_hash(BpfMap& m) {
    if (!l_.htab_buckets.present() || !l_.htab_n_buckets.present() || !l_.bucket_head.present() ||
        !l_.elem_key.present() || l_.bucket_size < 8) {
      m.entries_note = "entries not walked: bpf_htab, bucket or htab_elem is not in the kernel's BTF";
      return;
    }
    if (m.key_size == 0 || m.key_size > kMaxKeyBytes) {
      m.entries_note = fmt::format("entries not walked: key_size {} is out of range", m.key_size);
      return;
    }
    const uint64_t htab = m.address - l_.htab_map.offset;
    const auto buckets = space_.read_u64(htab + l_.htab_buckets.offset);
    const auto n = space_.read_u32(htab + l_.htab_n_buckets.offset);
    if (!buckets.ok || !n.ok || n.value == 0 || (n.value & (n.value - 1)) != 0 || !space_.plausible_pointer(buckets.value, 8)) {
      m.entries_note = buckets.ok && n.ok ? fmt::format("entries not walked: buckets {:#x}, n_buckets {} do not make a table",
                                                        buckets.value, n.value)
                                          : "entries not walked: bpf_htab.buckets or n_buckets is unreadable";
      return;
    }
    std::optional<uint64_t> cpu0;
    if (!per_cpu_base(m, cpu0)) return;
    const struct btf* b = btf_for(m);
    m.entries_walked = true;
    std::vector<std::string> notes;
    if (cpu0) notes.push_back("values of CPU 0 only");
    const uint32_t scan = static_cast<uint32_t>(std::min<uint64_t>(n.value, kBpfMaxBuckets));
    std::vector<uint8_t> chunk;
    uint32_t visits = 0;
    std::set<uint64_t> seen;
    bool stop = false;
    for (uint32_t first = 0; first < scan && !stop; first += kBucketChunk) {
      const uint32_t count = std::min(kBucketChunk, scan - first);
      chunk.assign(uint64_t{count} * l_.bucket_size, 0);
      if (!space_.read_bytes(buckets.value + uint64_t{first} * l_.bucket_size, chunk)) {
        notes.push_back(fmt::format("buckets {}.. unreadable", first));
        break;
      }
      for (uint32_t i = 0; i < count && !stop; ++i) {
        uint64_t node = 0;
        std::memcpy(&node, chunk.data() + uint64_t{i} * l_.bucket_size + l_.bucket_head.offset, 8);
        for (uint32_t step = 0; node != 0 && (node & 1) == 0; ++step) {  // an odd pointer ends a nulls list
          if (step >= kMaxChain || ++visits > kMaxHashVisits || !seen.insert(node).second) {
            notes.push_back(fmt::format("bucket {}: the chain loops or runs past {} elements; walk stopped", first + i,
                                        std::min(kMaxChain, kMaxHashVisits)));
            stop = true;
            break;
          }
          if (!space_.plausible_pointer(node, 8)) {
            notes.push_back(fmt::format("bucket {}: element pointer {:#x} is not a kernel address", first + i, node));
            break;
          }
          if (m.entries.size() >= kBpfMaxEntries) {
            m.entries_truncated = true;
            stop = true;
            break;
          }
          const uint64_t elem = node - l_.elem_hash_node.offset;
          const uint64_t key = elem + l_.elem_key.offset;
          uint64_t value = key + round_up8(m.key_size);
          BpfEntry e;
          bool key_truncated = false;
          e.key = key_text(render_at(key, m.key_size, b, m.btf_key_type_id, key_truncated));
          if (cpu0) {
            const auto pptr = space_.read_u64(value);
            value = pptr.ok ? pptr.value + *cpu0 : 0;
          }
          e.value = value ? render_at(value, m.value_size, b, m.btf_value_type_id, e.truncated)
                          : std::vector<RenderedField>{{"", "<per-CPU pointer unreadable>"}};
          m.entries.push_back(std::move(e));
          const auto next = space_.read_u64(node);
          if (!next.ok) {
            notes.push_back(fmt::format("bucket {}: element {:#x} is unreadable", first + i, elem));
            break;
          }
          node = next.value;
        }
      }
    }
    if (scan < n.value && !stop) {
      m.entries_truncated = true;
      notes.push_back(fmt::format("first {} of {} buckets scanned", scan, n.value));
    }
    for (const auto& note : notes) m.entries_note += (m.entries_note.empty() ? "" : "; ") + note;
  }

  const KernelAddressSpace& space_;
  const KernelLayout::Bpf& l_;
  const Located& located_;
  std::map<uint64_t, ProgramBtf> btfs_;
  uint64_t btf_bytes_ = 0;
  size_t fields_total_ = 0;
};

}  // namespace

BpfState GuestKernel::read_bpf_maps() const {
  BpfState out;
  const auto& l = layout_.bpf;
  if (layout_.symbols.map_idr == 0) {
    out.unavailable = "no map_idr in this kernel's symbols";
    return out;
  }
  std::string missing;
  for (const auto& [name, field] : {std::pair{"idr.idr_rt.xa_head", &l.idr_xa_head}, {"bpf_map.name", &l.map_name},
                                    {"bpf_map.map_type", &l.map_type}, {"bpf_map.id", &l.id}})
    if (!field->present()) missing += (missing.empty() ? "" : ", ") + std::string(name);
  if (!missing.empty()) {
    out.unavailable = "not in this kernel's BTF: " + missing;
    return out;
  }
  const uint64_t idr = slid(layout_.symbols.map_idr);
  const auto head = space_.read_u64(idr + l.idr_xa_head.offset);
  if (!head.ok) {
    out.unavailable = fmt::format("map_idr at {:#x} is unreadable", idr);
    return out;
  }
  auto walk = walk_xarray(space_, {l.xa_node_shift, l.xa_node_slots}, head.value, kBpfMaxMaps);
  out.ok = true;
  out.maps_seen = walk.leaves_seen;
  out.problems = std::move(walk.problems);
  MapReader reader(space_, l, located_);
  for (uint64_t map : walk.leaves) {
    if (!space_.plausible_pointer(map, 8)) {
      if (out.problems.size() < kMaxProblems)
        out.problems.push_back(fmt::format("map_idr entry {:#x} is not a kernel address: skipped", map));
      continue;
    }
    out.maps.push_back(reader.read(map));
  }
  return out;
}

}  // namespace ktstr::guest_kernel
