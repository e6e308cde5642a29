#include "kvm/guest_kernel/btf_layout.hpp"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <vector>

#include "kvm/guest_kernel/image_error.hpp"

namespace ktstr::guest_kernel {
namespace {

constexpr int kMaxDepth = 32;  // typedef/qualifier chains and anonymous nesting; BTF from a kernel is shallow

std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> parts;
  while (true) {
    const size_t dot = path.find('.');
    parts.push_back(path.substr(0, dot));
    if (dot == std::string_view::npos) return parts;
    path.remove_prefix(dot + 1);
  }
}

/// Follows typedef, const, volatile, restrict and type tags to the type that has a layout.
const btf_type* skip_modifiers(const struct btf* b, uint32_t id, uint32_t* out_id = nullptr) {
  for (int depth = 0; depth < kMaxDepth; ++depth) {
    const btf_type* t = btf__type_by_id(b, id);
    if (!t) return nullptr;
    if (!btf_is_mod(t) && !btf_is_typedef(t)) {
      if (out_id) *out_id = id;
      return t;
    }
    id = t->type;
  }
  return nullptr;
}

struct Found {
  uint64_t bit_offset = 0;
  uint32_t type_id = 0;
};

/// Member `name` of composite `t`, looking inside anonymous struct/union members too.
std::optional<Found> find_member(const struct btf* b, const btf_type* t, std::string_view name, int depth) {
  if (depth > kMaxDepth || !btf_is_composite(t)) return std::nullopt;
  const btf_member* m = btf_members(t);
  for (uint16_t i = 0; i < btf_vlen(t); ++i, ++m) {
    const char* n = btf__name_by_offset(b, m->name_off);
    const uint64_t bits = btf_member_bit_offset(t, i);
    if (n && *n && name == n) return Found{bits, m->type};
    if (n && *n) continue;
    const btf_type* inner = skip_modifiers(b, m->type);
    if (!inner || !btf_is_composite(inner)) continue;
    if (auto f = find_member(b, inner, name, depth + 1)) return Found{bits + f->bit_offset, f->type_id};
  }
  return std::nullopt;
}

const btf_type* find_composite(const struct btf* b, std::string_view name, uint32_t* id) {
  const std::string n(name);
  for (uint32_t kind : {BTF_KIND_STRUCT, BTF_KIND_UNION}) {
    const int found = btf__find_by_name_kind(b, n.c_str(), kind);
    if (found > 0) {
      *id = static_cast<uint32_t>(found);
      return btf__type_by_id(b, *id);
    }
  }
  return nullptr;
}

/// libbpf complains on stderr by default; its complaints about a damaged BTF are debug logs here.
int libbpf_to_spdlog(enum libbpf_print_level, const char* format, va_list args) {
  char line[512];
  std::vsnprintf(line, sizeof line, format, args);
  spdlog::debug("libbpf: {}", std::string_view(line).substr(0, std::string_view(line).find_last_not_of('\n') + 1));
  return 0;
}

}  // namespace

BtfLayout::BtfLayout(std::span<const uint8_t> raw) : raw_size_(raw.size()) {
  static const bool quiet = (libbpf_set_print(libbpf_to_spdlog), true);
  (void)quiet;
  if (raw.empty()) throw ImageError("no BTF: the kernel image has no .BTF section (CONFIG_DEBUG_INFO_BTF off)");
  btf_ = btf__new(raw.data(), static_cast<uint32_t>(raw.size()));
  if (!btf_) {
    const int err = errno;
    btf_ = nullptr;
    throw ImageError(std::string("BTF not readable by libbpf: ") + std::strerror(err));
  }
}

BtfLayout::~BtfLayout() {
  if (btf_) btf__free(btf_);
}

BtfLayout::BtfLayout(BtfLayout&& o) noexcept : btf_(o.btf_), raw_size_(o.raw_size_) { o.btf_ = nullptr; }

BtfLayout& BtfLayout::operator=(BtfLayout&& o) noexcept {
  if (this != &o) {
    if (btf_) btf__free(btf_);
    btf_ = o.btf_;
    raw_size_ = o.raw_size_;
    o.btf_ = nullptr;
  }
  return *this;
}

uint32_t BtfLayout::type_count() const { return btf__type_cnt(btf_); }

FieldLookup BtfLayout::member(std::string_view path) const {
  const auto parts = split(path);
  const std::string p(path);
  if (parts.size() < 2) return {{}, p + ": not a member path (struct.member)"};
  uint32_t id = 0;
  const btf_type* t = find_composite(btf_, parts[0], &id);
  if (!t) return {{}, p + ": no struct " + std::string(parts[0]) + " in BTF"};
  uint64_t bits = 0;
  std::string_view owner = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) {
    const btf_type* composite = skip_modifiers(btf_, id);
    if (!composite || !btf_is_composite(composite))
      return {{}, p + ": " + std::string(owner) + " is not a struct or union"};
    const auto f = find_member(btf_, composite, parts[i], 0);
    if (!f) return {{}, p + ": no member " + std::string(parts[i]) + " in " + std::string(owner)};
    bits += f->bit_offset;
    id = f->type_id;
    owner = parts[i];
  }
  long long size = btf__resolve_size(btf_, id);
  if (size == 0)  // a flexible array member (char key[]): its offset, and one element's size
    if (const btf_type* a = skip_modifiers(btf_, id); a && btf_is_array(a) && btf_array(a)->nelems == 0)
      size = btf__resolve_size(btf_, btf_array(a)->type);
  if (size <= 0 || size > UINT32_MAX || bits / 8 > UINT32_MAX) return {{}, p + ": member has no size in BTF"};
  return {{static_cast<uint32_t>(bits / 8), static_cast<uint32_t>(size)}, {}};
}

FieldLookup BtfLayout::first_member(std::initializer_list<std::string_view> paths) const {
  FieldLookup last;
  std::string why;
  for (auto path : paths) {
    last = member(path);
    if (last.field.present()) return last;
    why += (why.empty() ? "" : "; ") + last.why;
  }
  last.why = why;
  return last;
}

std::optional<uint32_t> BtfLayout::struct_size(std::string_view name) const {
  uint32_t id = 0;
  const btf_type* t = find_composite(btf_, name, &id);
  if (!t) return std::nullopt;
  return t->size;
}

std::optional<uint64_t> BtfLayout::percpu_offset(std::string_view variable) const {
  const int sec = btf__find_by_name_kind(btf_, ".data..percpu", BTF_KIND_DATASEC);
  if (sec <= 0) return std::nullopt;
  const btf_type* t = btf__type_by_id(btf_, static_cast<uint32_t>(sec));
  if (!t) return std::nullopt;
  const btf_var_secinfo* v = btf_var_secinfos(t);
  for (uint16_t i = 0; i < btf_vlen(t); ++i, ++v) {
    const btf_type* var = btf__type_by_id(btf_, v->type);
    if (!var || !btf_is_var(var)) continue;
    const char* n = btf__name_by_offset(btf_, var->name_off);
    if (n && variable == n) return v->offset;
  }
  return std::nullopt;
}

std::optional<int64_t> BtfLayout::enum_value(std::string_view enumerator) const {
  const uint32_t count = btf__type_cnt(btf_);
  for (uint32_t id = 1; id < count; ++id) {
    const btf_type* t = btf__type_by_id(btf_, id);
    if (!t) continue;
    if (btf_is_enum(t)) {
      const struct btf_enum* e = btf_enum(t);
      for (uint16_t i = 0; i < btf_vlen(t); ++i, ++e) {
        const char* n = btf__name_by_offset(btf_, e->name_off);
        if (n && enumerator == n) return e->val;
      }
    } else if (btf_is_enum64(t)) {
      const struct btf_enum64* e = btf_enum64(t);
      for (uint16_t i = 0; i < btf_vlen(t); ++i, ++e) {
        const char* n = btf__name_by_offset(btf_, e->name_off);
        if (n && enumerator == n) return static_cast<int64_t>(btf_enum64_value(e));
      }
    }
  }
  return std::nullopt;
}

}  // namespace ktstr::guest_kernel
