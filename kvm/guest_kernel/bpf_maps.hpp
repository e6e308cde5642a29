#pragma once
// The BPF maps of a running guest kernel (every map in map_idr), as read at a freeze:
// metadata for each, and for array and hash maps their entries rendered with the program's
// BTF (the map's btf pointer). Plain structs: messages/monitor.hpp makes them messages.
// Everything is bounded by the caps below, which the dump states; what could not be read is
// named with its reason.
#include <cstdint>
#include <string>
#include <vector>

#include "kvm/guest_kernel/btf_render.hpp"

namespace ktstr::guest_kernel {

inline constexpr size_t kBpfMaxMaps = 64;                ///< maps read (map_idr may hold more)
inline constexpr size_t kBpfMaxEntries = 16;             ///< entries shown per map
inline constexpr size_t kBpfMaxFieldsPerValue = 64;      ///< rendered leaves per key or value
inline constexpr uint32_t kBpfMaxValueBytes = 64 * 1024; ///< bytes of one value read
inline constexpr uint32_t kBpfMaxBtfBytes = 4u << 20;    ///< bytes of one program BTF read
inline constexpr uint32_t kBpfMaxBtfTotal = 16u << 20;   ///< bytes of program BTF read, all maps
inline constexpr uint32_t kBpfMaxBuckets = 16384;        ///< hash buckets scanned per map
inline constexpr size_t kBpfMaxFieldsTotal = 8192;       ///< rendered leaves, all maps (then values are left out)

struct BpfEntry {
  std::string key;                    ///< the index of an array; a hash key rendered ("42", "a=1 b=2", 0x-hex)
  std::vector<RenderedField> value;   ///< the value, field by field
  bool truncated = false;             ///< the value had more fields than shown
};

struct BpfMap {
  uint64_t address = 0;  ///< struct bpf_map in the guest
  uint32_t id = 0;
  std::string name;      ///< "scx_qmap.bss"
  uint32_t type = 0;     ///< enum bpf_map_type
  std::string type_name; ///< "array", "hash", "percpu_array", ... ("unknown(N)")
  uint32_t key_size = 0, value_size = 0, max_entries = 0, map_flags = 0;
  uint32_t btf_key_type_id = 0, btf_value_type_id = 0;
  bool btf = false;      ///< keys and values rendered with the program's BTF
  std::string btf_note;  ///< why not (no BTF, unreadable, over the cap), when a map has entries
  bool entries_walked = false;  ///< an array or hash map whose entries were read
  std::vector<BpfEntry> entries;
  bool entries_truncated = false;  ///< more entries than shown (or buckets past the cap)
  std::string entries_note;        ///< "entries not walked: <why>", "metadata only", "cpu 0 only", ...
};

struct BpfState {
  bool ok = false;
  std::string unavailable;         ///< when !ok: why no map could be listed
  std::vector<BpfMap> maps;        ///< in map_idr order (by id), at most kBpfMaxMaps
  uint64_t maps_seen = 0;          ///< entries in map_idr, also those past the cap
  std::vector<std::string> problems;  ///< unreadable xa nodes, map pointers, a cycle (bounded)
};

}  // namespace ktstr::guest_kernel
