#include "kvm/guest_kernel/btf_render.hpp"

#include <bpf/btf.h>
#include <spdlog/fmt/fmt.h>

#include <cstring>

namespace ktstr::guest_kernel {
namespace {

constexpr int kMaxDepth = 12;       // nesting of structs and arrays
constexpr size_t kMaxName = 64;     // bytes of one BTF name shown

/// A name from the (untrusted) BTF string section: printable ASCII only, bounded.
std::string safe_name(const char* n) {
  std::string out;
  for (size_t i = 0; n && n[i] && i < kMaxName; ++i) {
    const auto c = static_cast<unsigned char>(n[i]);
    out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
  }
  return out;
}
constexpr int kMaxModifiers = 32;   // typedef/const/volatile chains

uint64_t load(std::span<const uint8_t> bytes, size_t offset, size_t size) {
  uint64_t v = 0;
  for (size_t i = size; i-- > 0;) v = v << 8 | bytes[offset + i];
  return v;
}

class Renderer {
 public:
  Renderer(const struct btf* b, std::span<const uint8_t> bytes, const RenderLimits& limits)
      : btf_(b), bytes_(bytes), limits_(limits) {}

  Rendered take() { return std::move(out_); }

  void emit(const std::string& name, std::string value) {
    if (out_.fields.size() >= limits_.max_fields) {
      out_.truncated = true;
      return;
    }
    out_.fields.push_back({name, std::move(value)});
  }
  bool full() const { return out_.fields.size() >= limits_.max_fields; }

  /// `bit_offset` from the start of bytes; `bitfield` > 0 for a bitfield member.
  void value(const std::string& name, uint32_t id, uint64_t bit_offset, uint32_t bitfield, int depth) {
    if (full()) {
      out_.truncated = true;
      return;
    }
    if (depth > kMaxDepth) return emit(name, "<nested too deep>");
    const btf_type* t = resolve(id);
    if (!t) return emit(name, fmt::format("<type {} not in the BTF>", id));
    if (bitfield == 0 && bit_offset % 8 != 0) return emit(name, "<not byte aligned>");
    const uint64_t offset = bit_offset / 8;
    const long long size = btf_is_composite(t) || btf_is_int(t) || btf_is_ptr(t) || btf_is_any_enum(t) ||
                                   btf_is_float(t) || btf_is_array(t) || btf_is_datasec(t)
                               ? btf__resolve_size(btf_, id)
                               : -1;
    if (size < 0) return emit(name, fmt::format("<{} not shown>", kind_name(t)));
    if (bitfield == 0 && (offset > bytes_.size() || static_cast<uint64_t>(size) > bytes_.size() - offset))
      return emit(name, "<outside the bytes read>");

    if (btf_is_int(t)) return emit(name, integer(t, bit_offset, bitfield));
    if (bitfield != 0) return emit(name, "<bitfield of a non-integer type>");
    if (btf_is_any_enum(t)) return emit(name, enumerated(t, offset));
    if (btf_is_ptr(t)) return emit(name, size == 8 ? fmt::format("{:#x}", load(bytes_, offset, 8)) : "<pointer>");
    if (btf_is_float(t)) return emit(name, floating(t, offset));
    if (btf_is_array(t)) return array(name, t, offset, depth);
    if (btf_is_datasec(t)) return datasec(name, t, offset, depth);
    if (btf_is_composite(t)) return composite(name, t, bit_offset, depth);
  }

 private:
  const btf_type* resolve(uint32_t& id) const {
    for (int i = 0; i < kMaxModifiers; ++i) {
      const btf_type* t = btf__type_by_id(btf_, id);
      if (!t) return nullptr;
      if (!btf_is_mod(t) && !btf_is_typedef(t) && !btf_is_var(t)) return t;
      id = t->type;
    }
    return nullptr;
  }

  static const char* kind_name(const btf_type* t) {
    switch (btf_kind(t)) {
      case BTF_KIND_FUNC: return "function";
      case BTF_KIND_FUNC_PROTO: return "function prototype";
      case BTF_KIND_FWD: return "forward declaration";
      default: return "type";
    }
  }

  std::string member_name(const std::string& prefix, const char* n) const {
    if (!n || !*n) return prefix;  // anonymous struct/union: its members join the outer name
    return prefix.empty() ? safe_name(n) : prefix + "." + safe_name(n);
  }

  std::string integer(const btf_type* t, uint64_t bit_offset, uint32_t bitfield) {
    const uint32_t encoding = btf_int_encoding(t);
    const uint32_t bits = bitfield ? bitfield : btf_int_bits(t);
    const uint64_t start = bit_offset + (bitfield ? 0 : btf_int_offset(t));
    if (t->size > 8 || bits == 0 || bits > 64) {
      if (start % 8 || start / 8 + t->size > bytes_.size()) return "<wide integer>";
      return hex_bytes(bytes_.subspan(start / 8, t->size), t->size);
    }
    if (start + bits > bytes_.size() * 8ull) return "<outside the bytes read>";
    uint64_t v = 0;
    const uint64_t first = start / 8, last = (start + bits - 1) / 8;
    if (last - first >= 8) return "<bitfield too wide>";
    unsigned __int128 raw = 0;
    for (uint64_t i = last + 1; i-- > first;) raw = raw << 8 | bytes_[i];
    raw >>= (start % 8);
    v = static_cast<uint64_t>(raw) & (bits == 64 ? ~0ull : (1ull << bits) - 1);
    if (encoding & BTF_INT_BOOL) return v ? "true" : "false";
    if (encoding & BTF_INT_SIGNED) {
      const int64_t s = bits == 64 ? static_cast<int64_t>(v) : static_cast<int64_t>(v << (64 - bits)) >> (64 - bits);
      return std::to_string(s);
    }
    return std::to_string(v);
  }

  std::string enumerated(const btf_type* t, uint64_t offset) {
    if (t->size == 0 || t->size > 8) return "<enum of odd size>";
    const uint64_t raw = load(bytes_, offset, t->size);
    if (btf_is_enum(t)) {
      const struct btf_enum* e = btf_enum(t);
      for (uint16_t i = 0; i < btf_vlen(t); ++i, ++e)
        if (static_cast<uint32_t>(e->val) == static_cast<uint32_t>(raw))
          if (const char* n = btf__name_by_offset(btf_, e->name_off); n && *n) return safe_name(n);
    } else {
      const struct btf_enum64* e = btf_enum64(t);
      for (uint16_t i = 0; i < btf_vlen(t); ++i, ++e)
        if (btf_enum64_value(e) == raw)
          if (const char* n = btf__name_by_offset(btf_, e->name_off); n && *n) return safe_name(n);
    }
    return std::to_string(raw);
  }

  std::string floating(const btf_type* t, uint64_t offset) {
    if (t->size == 4) {
      float f;
      std::memcpy(&f, bytes_.data() + offset, 4);
      return fmt::format("{}", f);
    }
    if (t->size == 8) {
      double d;
      std::memcpy(&d, bytes_.data() + offset, 8);
      return fmt::format("{}", d);
    }
    return "<float of odd size>";
  }

  bool is_char(uint32_t id) {
    const btf_type* t = resolve(id);
    if (!t || !btf_is_int(t) || t->size != 1) return false;
    // pahole marks char with BTF_INT_CHAR; clang does not, so its name says it
    const char* n = btf__name_by_offset(btf_, t->name_off);
    return (btf_int_encoding(t) & BTF_INT_CHAR) || (n && std::strstr(n, "char"));
  }

  void array(const std::string& name, const btf_type* t, uint64_t offset, int depth) {
    const struct btf_array* a = btf_array(t);
    const long long elem = btf__resolve_size(btf_, a->type);
    if (elem <= 0 && a->nelems > 0) return emit(name, "<array of unsized elements>");
    if (is_char(a->type)) {
      const size_t n = std::min<size_t>(a->nelems, limits_.max_string);
      std::string s;
      bool printable = true;
      for (size_t i = 0; i < n; ++i) {
        const uint8_t c = bytes_[offset + i];
        if (c == 0) break;
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') printable = false;
        s.push_back(static_cast<char>(c));
      }
      if (printable) return emit(name, "\"" + s + "\"" + (a->nelems > n && s.size() == n ? "..." : ""));
      return emit(name, hex_bytes(bytes_.subspan(offset, a->nelems), limits_.max_string));
    }
    const size_t shown = std::min<size_t>(a->nelems, limits_.max_array_elems);
    for (size_t i = 0; i < shown; ++i) {
      value(fmt::format("{}[{}]", name, i), a->type, (offset + i * static_cast<uint64_t>(elem)) * 8, 0, depth + 1);
      if (full() && i + 1 < a->nelems) {
        out_.truncated = true;
        break;
      }
    }
    if (a->nelems > shown) {
      out_.truncated = true;
      emit(fmt::format("{}[{}..{}]", name, shown, a->nelems - 1), fmt::format("<{} more not shown>", a->nelems - shown));
    }
  }

  void composite(const std::string& name, const btf_type* t, uint64_t bit_offset, int depth) {
    const btf_member* m = btf_members(t);
    for (uint16_t i = 0; i < btf_vlen(t); ++i, ++m) {
      if (full()) {
        out_.truncated = true;
        break;
      }
      const char* n = btf__name_by_offset(btf_, m->name_off);
      value(member_name(name, n), m->type, bit_offset + btf_member_bit_offset(t, i), btf_member_bitfield_size(t, i),
            depth + 1);
    }
    if (btf_vlen(t) == 0) emit(name, "{}");
  }

  void datasec(const std::string& name, const btf_type* t, uint64_t offset, int depth) {
    const btf_var_secinfo* v = btf_var_secinfos(t);
    for (uint16_t i = 0; i < btf_vlen(t); ++i, ++v) {
      if (full()) {
        out_.truncated = true;
        break;
      }
      const btf_type* var = btf__type_by_id(btf_, v->type);
      const char* n = var ? btf__name_by_offset(btf_, var->name_off) : nullptr;
      const std::string var_name = member_name(name, n && *n ? n : "?");
      if (offset + v->offset > bytes_.size() || v->size > bytes_.size() - offset - v->offset) {
        emit(var_name, "<outside the bytes read>");
        continue;
      }
      value(var_name, v->type, (offset + v->offset) * 8, 0, depth + 1);
    }
  }

  const struct btf* btf_;
  std::span<const uint8_t> bytes_;
  RenderLimits limits_;
  Rendered out_;
};

}  // namespace

Rendered render_btf_value(const struct btf* btf, uint32_t type_id, std::span<const uint8_t> bytes,
                          const RenderLimits& limits) {
  Renderer r(btf, bytes, limits);
  if (!btf || type_id == 0)
    r.emit("", hex_bytes(bytes, limits.max_hex));
  else
    r.value("", type_id, 0, 0, 0);
  return r.take();
}

std::string hex_bytes(std::span<const uint8_t> bytes, size_t max) {
  std::string out = "0x";
  for (size_t i = 0; i < bytes.size() && i < max; ++i) out += fmt::format("{:02x}", bytes[i]);
  if (bytes.size() > max) out += "...";
  return out;
}

}  // namespace ktstr::guest_kernel
