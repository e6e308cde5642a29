#include "kvm/guest_kernel/kallsyms.hpp"

#include <array>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "kvm/guest_kernel/image_error.hpp"

namespace ktstr::guest_kernel {
namespace {

constexpr size_t kMaxTokenBytes = 64;       // a token is a short substring of names
constexpr size_t kMaxNameBytes = 1024;      // KSYM_NAME_LEN is 512 in 6.x
constexpr size_t kMarkerWindow = 32 << 20;  // how far before the token table the markers may start
constexpr uint64_t kKernelTextFloor = 0xffffffff80000000ULL;  // __START_KERNEL_map

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> b) : b_(b) {}
  size_t size() const { return b_.size(); }
  uint8_t u8(size_t at) const { return b_[at]; }
  uint16_t u16(size_t at) const { return get<uint16_t>(at); }
  uint32_t u32(size_t at) const { return get<uint32_t>(at); }
  uint64_t u64(size_t at) const { return get<uint64_t>(at); }
  bool has(size_t at, size_t n) const { return at <= b_.size() && n <= b_.size() - at; }
  std::span<const uint8_t> bytes() const { return b_; }

 private:
  template <class T>
  T get(size_t at) const {
    T v;
    std::memcpy(&v, b_.data() + at, sizeof v);  // callers checked has(at, sizeof v)
    return v;
  }
  std::span<const uint8_t> b_;
};

struct Tokens {
  size_t table = 0, index = 0;
  std::array<std::string_view, 256> text;
};

/// 256 increasing u16 from 0 at `p`, and NUL-terminated non-empty tokens right before it
/// whose starts are exactly those offsets.
std::optional<Tokens> tokens_at(const Reader& r, size_t p) {
  if (!r.has(p, 512) || r.u16(p) != 0) return std::nullopt;
  std::array<uint16_t, 256> idx;
  for (size_t i = 0; i < 256; ++i) idx[i] = r.u16(p + 2 * i);
  if (idx[1] < 2 || idx[1] > kMaxTokenBytes) return std::nullopt;
  for (size_t i = 0; i + 1 < 256; ++i)
    if (idx[i + 1] <= idx[i] + 1 || size_t{idx[i + 1]} - idx[i] > kMaxTokenBytes + 1) return std::nullopt;
  for (size_t k = 2; k <= kMaxTokenBytes + 1 + 8; ++k) {
    if (p < idx[255] + k) break;
    const size_t t = p - idx[255] - k;
    bool ok = true;
    for (size_t i = 0; ok && i + 1 < 256; ++i) {
      const size_t end = t + idx[i + 1] - 1;
      ok = r.u8(end) == 0 && std::memchr(r.bytes().data() + t + idx[i], 0, end - t - idx[i]) == nullptr;
    }
    if (!ok) continue;
    const size_t last = t + idx[255];
    const void* nul = std::memchr(r.bytes().data() + last, 0, p - last);
    if (!nul) continue;
    const size_t last_end = static_cast<const uint8_t*>(nul) - r.bytes().data();
    if (last_end == last || p - (last_end + 1) > 7) continue;
    Tokens tokens{t, p, {}};
    for (size_t i = 0; i < 256; ++i) {
      const size_t s = t + idx[i];
      const size_t e = i < 255 ? t + idx[i + 1] - 1 : last_end;
      tokens.text[i] = std::string_view(reinterpret_cast<const char*>(r.bytes().data() + s), e - s);
    }
    return tokens;
  }
  return std::nullopt;
}

/// One kallsyms_names entry at `at`: its compressed bytes, and where the next one starts.
struct Entry {
  size_t data = 0, length = 0, next = 0;
};

std::optional<Entry> entry_at(const Reader& r, size_t at, size_t limit) {
  if (at >= limit) return std::nullopt;
  size_t len = r.u8(at), data = at + 1;
  if (len & 0x80) {  // names of 128+ compressed bytes: 2-byte ULEB128 length
    if (data >= limit) return std::nullopt;
    len = (len & 0x7f) | (size_t{r.u8(data)} << 7);
    ++data;
  }
  if (len == 0 || len > limit - data) return std::nullopt;
  return Entry{data, len, data + len};
}

/// The u32 run at `m`: 0 first, then increasing by what 256 names take.
std::vector<uint32_t> marker_run(const Reader& r, size_t m, size_t end) {
  std::vector<uint32_t> run{0};
  for (size_t at = m + 4; at + 4 <= end; at += 4) {
    const uint32_t v = r.u32(at);
    if (v <= run.back() || v - run.back() < 256 * 2 || v - run.back() > 256 * (kMaxNameBytes + 2)) break;
    run.push_back(v);
  }
  return run;
}

struct Names {
  size_t num_syms = 0, start = 0;
  uint32_t count = 0;
};

/// kallsyms_names ending at most 7 bytes before `markers_at`, whose every 256th entry starts
/// at the recorded marker, with kallsyms_num_syms in front.
std::optional<Names> names_before(const Reader& r, size_t markers_at, const std::vector<uint32_t>& markers) {
  for (size_t used = markers.size(); used >= 1 && used + 2 >= markers.size(); --used) {
    const uint32_t last = markers[used - 1];
    if (markers_at < size_t{last} + 8) continue;
    const size_t hi = (markers_at - last - 4) & ~size_t{3};
    const size_t window = 256 * (kMaxNameBytes + 2);
    const size_t lo = hi > window ? hi - window : 0;
    for (size_t x = hi; x >= lo && x + 4 <= markers_at; x -= 4) {
      const uint32_t n = r.u32(x);
      if (n > (used * 256) || n <= (used - 1) * 256 || n > kMaxKallsyms) {
        if (x < 4) break;
        continue;
      }
      for (size_t start : {x + 4, x + 8}) {
        // Cheap test first: the last block of names ends at the markers.
        size_t at = start + last;
        bool ok = true;
        for (uint32_t i = (used - 1) * 256; ok && i < n; ++i) {
          auto e = entry_at(r, at, markers_at);
          ok = e.has_value();
          if (ok) at = e->next;
        }
        if (!ok || markers_at - at > 7) continue;
        at = start;
        for (uint32_t i = 0; ok && i < n; ++i) {
          if (i % 256 == 0) ok = at - start == markers[i / 256];
          auto e = entry_at(r, at, markers_at);
          ok = ok && e.has_value();
          if (ok) at = e->next;
        }
        if (ok) return Names{x, start, n};
      }
      if (x < 4) break;
    }
  }
  return std::nullopt;
}

uint64_t address_of(int32_t off, uint64_t base, bool absolute_percpu) {
  if (!absolute_percpu) return base + static_cast<uint32_t>(off);
  return off >= 0 ? static_cast<uint64_t>(off) : base - 1 - static_cast<int64_t>(off);
}

/// kallsyms_offsets + kallsyms_relative_base at `offsets`: a kernel-map base and addresses
/// in non-decreasing order (scripts/kallsyms sorts by address).
std::optional<KallsymsTables> offsets_at(const Reader& r, size_t offsets, uint32_t count) {
  const size_t end = offsets + size_t{4} * count;
  const size_t base_at = (end + 7) & ~size_t{7};
  if (!r.has(offsets, size_t{4} * count) || !r.has(base_at, 8)) return std::nullopt;
  const uint64_t base = r.u64(base_at);
  if (base < kKernelTextFloor) return std::nullopt;
  bool any_negative = false;
  for (uint32_t i = 0; i < count && !any_negative; ++i) any_negative = static_cast<int32_t>(r.u32(offsets + 4 * i)) < 0;
  uint64_t previous = 0;
  for (uint32_t i = 0; i < count; ++i) {
    const uint64_t a = address_of(static_cast<int32_t>(r.u32(offsets + 4 * i)), base, any_negative);
    if (a < previous) return std::nullopt;
    previous = a;
  }
  KallsymsTables t;
  t.offsets = offsets;
  t.relative_base = base_at;
  t.relative_base_value = base;
  t.absolute_percpu = any_negative;
  return t;
}

std::optional<KallsymsTables> offsets_for(const Reader& r, const Tokens& tokens, const Names& names) {
  const size_t after_index = tokens.index + 512;
  for (size_t start : {(after_index + 3) & ~size_t{3}, (after_index + 7) & ~size_t{7}})  // 6.12: after the index
    if (auto t = offsets_at(r, start, names.count)) return t;
  const size_t bytes = size_t{4} * names.count;
  for (size_t gap : {8, 12, 16})  // 6.1: offsets, relative_base, then kallsyms_num_syms
    if (names.num_syms >= gap + bytes)
      if (auto t = offsets_at(r, names.num_syms - gap - bytes, names.count); t && t->relative_base + 8 <= names.num_syms)
        return t;
  return std::nullopt;
}

std::optional<KallsymsTables> tables_for(const Reader& r, const Tokens& tokens) {
  const size_t floor = tokens.table > kMarkerWindow ? tokens.table - kMarkerWindow : 0;
  for (size_t m = tokens.table & ~size_t{3}; m >= floor + 4;) {
    m -= 4;
    if (r.u32(m) != 0) continue;
    const auto markers = marker_run(r, m, tokens.table);
    if (markers.size() < 2) continue;
    const auto names = names_before(r, m, markers);
    if (!names) continue;
    auto t = offsets_for(r, tokens, *names);
    if (!t) continue;
    t->token_table = tokens.table;
    t->token_index = tokens.index;
    t->markers = m;
    t->names = names->start;
    t->count = names->count;
    return t;
  }
  return std::nullopt;
}

}  // namespace

std::optional<KallsymsTables> locate_kallsyms(std::span<const uint8_t> image) {
  const Reader r(image);
  for (size_t p = 0; p + 512 <= image.size(); p += 2) {
    if (r.u16(p) != 0 || r.u16(p + 2) < 2 || r.u16(p + 2) > kMaxTokenBytes) continue;
    const auto tokens = tokens_at(r, p);
    if (!tokens) continue;
    if (auto t = tables_for(r, *tokens)) return t;
  }
  return std::nullopt;
}

SymbolTable decode_kallsyms(std::span<const uint8_t> image) {
  const auto t = locate_kallsyms(image);
  if (!t) throw ImageError("no kallsyms tables in the kernel image (CONFIG_KALLSYMS off, or a layout this reader does not know)");
  const Reader r(image);
  const auto tokens = tokens_at(r, t->token_index);  // located above, so present
  std::vector<Symbol> symbols;
  symbols.reserve(t->count);
  size_t at = t->names;
  for (uint32_t i = 0; i < t->count; ++i) {
    const auto e = entry_at(r, at, t->markers);
    if (!e) throw ImageError("kallsyms: name " + std::to_string(i) + " runs past the table");
    std::string expanded;
    for (size_t k = 0; k < e->length && expanded.size() <= kMaxNameBytes; ++k) expanded += tokens->text[r.u8(e->data + k)];
    if (expanded.size() < 2 || expanded.size() > kMaxNameBytes)
      throw ImageError("kallsyms: name " + std::to_string(i) + " has an impossible length " + std::to_string(expanded.size()));
    Symbol s;
    s.type = expanded[0];
    s.name = expanded.substr(1);
    s.address = address_of(static_cast<int32_t>(r.u32(t->offsets + 4 * size_t{i})), t->relative_base_value, t->absolute_percpu);
    symbols.push_back(std::move(s));
    at = e->next;
  }
  return SymbolTable(std::move(symbols));
}

}  // namespace ktstr::guest_kernel
