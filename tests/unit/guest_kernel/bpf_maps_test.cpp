// GuestKernel::read_bpf_maps on the synthetic kernel: map_idr walked, maps' metadata, .bss
// values rendered with a program BTF built here with libbpf, hash entries, and hostile
// memory (cycles, garbage pointers, unreadable BTF) bounded and named.
#include <bpf/btf.h>
#include <catch2/catch.hpp>

#include <cstring>
#include <map>

#include "kvm/guest_kernel/btf_render.hpp"
#include "kvm/guest_kernel/guest_kernel.hpp"
#include "tests/support/synthetic_kernel.hpp"

using namespace ktstr::guest_kernel;
using namespace ktstr::guest_kernel::testing;

namespace {

constexpr uint32_t kHash = 1, kArray = 2, kPercpuArray = 6, kRingbuf = 27;

template <class T>
void put(std::vector<uint8_t>& bytes, size_t offset, T value) {
  if (bytes.size() < offset + sizeof value) bytes.resize(offset + sizeof value);
  std::memcpy(bytes.data() + offset, &value, sizeof value);
}

std::vector<uint8_t> bss_value(uint64_t enqueued, uint64_t dispatched) {
  std::vector<uint8_t> v(40, 0);
  put(v, 0, enqueued);
  put(v, 8, dispatched);
  std::memcpy(v.data() + 16, "qmap", 4);
  put(v, 24, int32_t{-5});
  put(v, 28, int32_t{7});
  return v;
}

std::vector<uint8_t> task_ctx(uint64_t weight, int32_t cpu, uint32_t flags, uint32_t mode) {
  std::vector<uint8_t> v(16, 0);
  put(v, 0, weight);
  put(v, 8, cpu);
  put(v, 12, (mode << 4) | flags);
  return v;
}

std::vector<uint8_t> u32_bytes(uint32_t v) {
  std::vector<uint8_t> out;
  put(out, 0, v);
  return out;
}

std::map<std::string, std::string> fields(const BpfEntry& e) {
  std::map<std::string, std::string> out;
  for (const auto& f : e.value) out[f.name] = f.value;
  return out;
}

const BpfMap* find(const BpfState& s, const std::string& name) {
  for (const auto& m : s.maps)
    if (m.name == name) return &m;
  return nullptr;
}

GuestKernel located(const SyntheticKernel& k) { return GuestKernel::locate(k.layout, k.ram, k.input()); }

}  // namespace

TEST_CASE("bpf maps: map_idr walked, each map's metadata, .bss rendered by variable name, hash entries",
          "[guest_kernel][bpf]") {
  for (bool zero_based : {true, false}) {
    CAPTURE(zero_based);
    SyntheticKernel k({.percpu_zero_based = zero_based});
    const auto p = scheduler_btf();
    const uint64_t btf = k.add_btf(p.raw);
    const uint64_t bss = k.add_array_map(3, "scx_qmap.bss", kArray, 40, 1, btf, p.bss, {bss_value(12, 10)});
    const uint64_t hash = k.add_hash_map(5, "task_ctx_stor", 4, 16, 8, btf, p.u32, p.task_ctx,
                                         {{1, u32_bytes(1001), task_ctx(100, 2, 5, 3)},
                                          {1, u32_bytes(1009), task_ctx(200, -1, 0, 1)},
                                          {6, u32_bytes(1006), task_ctx(300, 0, 15, 0)}});
    const uint64_t ring = k.add_plain_map(6, "events", kRingbuf);
    std::vector<uint8_t> a(8), b(8);
    put(a, 0, uint64_t{99});
    put(b, 0, uint64_t{42});
    const uint64_t stats = k.add_array_map(7, "stats", kPercpuArray, 8, 2, btf, p.u64, {a, b});
    k.set_map_idr({0, 0, 0, bss, 0, hash, ring, stats});

    const auto s = located(k).read_bpf_maps();
    REQUIRE(s.ok);
    CHECK(s.unavailable.empty());
    CHECK(s.maps_seen == 4);
    CHECK(s.problems.empty());
    REQUIRE(s.maps.size() == 4);
    CHECK(s.maps[0].name == "scx_qmap.bss");  // in map_idr order
    CHECK(s.maps[3].name == "stats");

    const auto* m = find(s, "scx_qmap.bss");
    REQUIRE(m);
    CHECK(m->id == 3);
    CHECK(m->type == kArray);
    CHECK(m->type_name == "array");
    CHECK(m->value_size == 40);
    CHECK(m->max_entries == 1);
    CHECK(m->btf);
    CHECK(m->entries_walked);
    CHECK_FALSE(m->entries_truncated);
    REQUIRE(m->entries.size() == 1);
    CHECK(m->entries[0].key == "0");
    const auto f = fields(m->entries[0]);
    CHECK(f.at("nr_enqueued") == "12");
    CHECK(f.at("nr_dispatched") == "10");
    CHECK(f.at("comm") == "\"qmap\"");
    CHECK(f.at("lat[0]") == "-5");
    CHECK(f.at("lat[1]") == "7");
    CHECK(f.at("lat[2]") == "0");
    CHECK(m->entries[0].value.front().name == "nr_enqueued");  // DATASEC order

    const auto* h = find(s, "task_ctx_stor");
    REQUIRE(h);
    CHECK(h->type_name == "hash");
    CHECK(h->key_size == 4);
    CHECK(h->entries_walked);
    REQUIRE(h->entries.size() == 3);
    std::map<std::string, std::map<std::string, std::string>> by_key;
    for (const auto& e : h->entries) by_key[e.key] = fields(e);
    CHECK(by_key.at("1001") == std::map<std::string, std::string>{{"weight", "100"}, {"cpu", "2"}, {"flags", "5"}, {"mode", "3"}});
    CHECK(by_key.at("1009").at("cpu") == "-1");
    CHECK(by_key.at("1006").at("flags") == "15");
    CHECK(by_key.at("1006").at("weight") == "300");

    const auto* r = find(s, "events");
    REQUIRE(r);
    CHECK(r->type_name == "ringbuf");
    CHECK_FALSE(r->entries_walked);
    CHECK(r->entries.empty());
    CHECK(r->entries_note.starts_with("metadata only"));

    const auto* pc = find(s, "stats");
    REQUIRE(pc);
    CHECK(pc->type_name == "percpu_array");
    REQUIRE(pc->entries.size() == 2);
    CHECK(pc->entries[0].value.at(0).value == "99");
    CHECK(pc->entries[1].value.at(0).value == "42");
    CHECK(pc->entries_note == "values of CPU 0 only");
  }
}

TEST_CASE("bpf maps: more entries than the cap are cut and said so - a map without BTF shows hex",
          "[guest_kernel][bpf]") {
  SyntheticKernel k;
  std::vector<std::vector<uint8_t>> values;
  for (uint32_t i = 0; i < 40; ++i) values.push_back(u32_bytes(i * 3));
  const uint64_t big = k.add_array_map(9, "big", kArray, 4, 40, 0, 0, values);
  k.set_map_idr({0, big});
  const auto s = located(k).read_bpf_maps();
  REQUIRE(s.maps.size() == 1);
  const auto& m = s.maps[0];
  CHECK_FALSE(m.btf);
  CHECK(m.btf_note == "the map has no BTF");
  CHECK(m.entries.size() == kBpfMaxEntries);
  CHECK(m.entries_truncated);
  CHECK(m.entries[5].key == "5");
  CHECK(m.entries[5].value.at(0).value == "0x0f000000");  // 15, little-endian bytes
}

TEST_CASE("bpf maps: a cycle in map_idr's nodes is walked once and named", "[guest_kernel][bpf]") {
  SyntheticKernel k;
  const uint64_t map = k.add_plain_map(2, "lonely", kRingbuf);
  const uint64_t leaf = k.set_map_idr({0, 0, map});
  // A root of shift 6 whose slot 0 is the leaf node and whose slot 1 is itself.
  const uint64_t root = k.alloc(0x240);
  const auto& b = k.layout.bpf;
  k.write_u32(root + b.xa_node_shift.offset, 6);
  k.write_u64(root + b.xa_node_slots.offset, leaf | 2);
  k.write_u64(root + b.xa_node_slots.offset + 8, root | 2);
  k.write_u64(k.image_va(k.layout.symbols.map_idr) + b.idr_xa_head.offset, root | 2);
  const auto s = located(k).read_bpf_maps();
  REQUIRE(s.ok);
  REQUIRE(s.maps.size() == 1);
  CHECK(s.maps[0].name == "lonely");
  REQUIRE(s.problems.size() == 1);
  CHECK_THAT(s.problems[0], Catch::Contains("reached twice (a cycle)"));

  // The leaf node points back at the root: at shift 0 a node entry is not followed.
  k.write_u64(leaf + b.xa_node_slots.offset + 8, root | 2);
  const auto again = located(k).read_bpf_maps();
  CHECK(again.maps.size() == 1);
  REQUIRE_FALSE(again.problems.empty());
}

TEST_CASE("bpf maps: garbage pointers and unreadable BTF are named, never dropped silently", "[guest_kernel][bpf]") {
  SyntheticKernel k;
  const auto p = scheduler_btf();
  // A map whose btf points at unmapped kernel memory; its values still come, as hex.
  const uint64_t no_btf = k.add_array_map(4, "sched.data", kArray, 8, 1, 0xffffc90077770000ull, p.u64, {u32_bytes(7)});
  // A hash map whose only element points at itself.
  const uint64_t looped = k.add_hash_map(8, "looped", 4, 4, 2, 0, 0, 0, {{0, u32_bytes(1), u32_bytes(2)}});
  const uint64_t buckets = k.read_u64(looped - k.layout.bpf.htab_map.offset + k.layout.bpf.htab_buckets.offset);
  const uint64_t elem = k.read_u64(buckets);
  k.write_u64(elem, elem);
  // A hash map whose bucket table is a user-space address.
  const uint64_t bad_table = k.add_hash_map(10, "bad_table", 4, 4, 2, 0, 0, 0, {});
  k.write_u64(bad_table - k.layout.bpf.htab_map.offset + k.layout.bpf.htab_buckets.offset, 0x00007f0000001000ull);
  // A BTF blob libbpf refuses.
  const uint64_t junk_btf = k.add_btf(std::vector<uint8_t>(64, 0xAB));
  const uint64_t junk = k.add_array_map(11, "junk_btf", kArray, 4, 1, junk_btf, 1, {u32_bytes(5)});
  k.set_map_idr({no_btf, 0x0000123400000000ull, looped, bad_table, junk, 0xffff888000000000ull + 4 * kGiB + 3});

  const auto s = located(k).read_bpf_maps();
  REQUIRE(s.ok);
  CHECK(s.maps_seen == 5);  // the misaligned pointer is not an entry (low bits 11)
  bool named_garbage = false;
  for (const auto& problem : s.problems) named_garbage |= problem.find("0x123400000000") != std::string::npos;
  CHECK(named_garbage);
  REQUIRE(s.maps.size() == 4);

  const auto* d = find(s, "sched.data");
  REQUIRE(d);
  CHECK_FALSE(d->btf);
  CHECK_THAT(d->btf_note, Catch::Contains("unreadable"));
  REQUIRE(d->entries.size() == 1);
  CHECK(d->entries[0].value.at(0).value == "0x0700000000000000");

  const auto* l = find(s, "looped");
  REQUIRE(l);
  CHECK(l->entries.size() == 1);
  CHECK_THAT(l->entries_note, Catch::Contains("loops"));

  const auto* t = find(s, "bad_table");
  REQUIRE(t);
  CHECK_FALSE(t->entries_walked);
  CHECK(t->entries_note.starts_with("entries not walked"));

  const auto* j = find(s, "junk_btf");
  REQUIRE(j);
  CHECK_FALSE(j->btf);
  CHECK_THAT(j->btf_note, Catch::Contains("libbpf refuses"));
  CHECK(j->entries.size() == 1);
}

TEST_CASE("bpf maps: an unreadable map_idr node, and a kernel without map_idr", "[guest_kernel][bpf]") {
  SyntheticKernel k;
  k.write_u64(k.image_va(k.layout.symbols.map_idr) + k.layout.bpf.idr_xa_head.offset, 0xffffc90012340000ull | 2);
  const auto s = located(k).read_bpf_maps();
  CHECK(s.ok);
  CHECK(s.maps.empty());
  REQUIRE(s.problems.size() == 1);
  CHECK_THAT(s.problems[0], Catch::Contains("unreadable"));

  SyntheticKernel old;
  old.layout.symbols.map_idr = 0;
  const auto none = located(old).read_bpf_maps();
  CHECK_FALSE(none.ok);
  CHECK(none.unavailable == "no map_idr in this kernel's symbols");

  SyntheticKernel empty;
  const auto zero = located(empty).read_bpf_maps();
  CHECK(zero.ok);
  CHECK(zero.maps.empty());
  CHECK(zero.maps_seen == 0);
}

TEST_CASE("btf render: scalars, enums, pointers, bitfields, nested structs, and bytes shorter than the type",
          "[guest_kernel][bpf]") {
  struct btf* b = btf__new_empty();
  const int u8 = btf__add_int(b, "unsigned char", 1, 0);
  const int boolean = btf__add_int(b, "_Bool", 1, BTF_INT_BOOL);
  const int e = btf__add_enum(b, "mode", 4);
  btf__add_enum_value(b, "MODE_A", 0);
  btf__add_enum_value(b, "MODE_B", 7);
  const int ptr = btf__add_ptr(b, u8);
  const int inner = btf__add_struct(b, "inner", 2);
  btf__add_field(b, "on", boolean, 0, 0);
  btf__add_field(b, "raw", u8, 8, 0);
  const int outer = btf__add_struct(b, "outer", 16);
  btf__add_field(b, "mode", e, 0, 0);
  btf__add_field(b, "in", inner, 32, 0);
  btf__add_field(b, "next", ptr, 64, 0);
  std::vector<uint8_t> v(16, 0);
  put(v, 0, uint32_t{7});
  v[4] = 1;
  v[5] = 0xfe;
  put(v, 8, uint64_t{0xffff888012345678ull});
  auto r = render_btf_value(b, outer, v);
  REQUIRE(r.fields.size() == 4);
  CHECK(r.fields[0].name == "mode");
  CHECK(r.fields[0].value == "MODE_B");
  CHECK(r.fields[1].name == "in.on");
  CHECK(r.fields[1].value == "true");
  CHECK(r.fields[2].value == "254");
  CHECK(r.fields[3].value == "0xffff888012345678");
  // Half the bytes: what lies past them is said, not read.
  r = render_btf_value(b, outer, std::span<const uint8_t>(v).first(6));
  CHECK(r.fields.back().value == "<outside the bytes read>");
  // A type id past the end, and a field cap.
  CHECK(render_btf_value(b, 999, v).fields.at(0).value == "<type 999 not in the BTF>");
  r = render_btf_value(b, outer, v, {.max_fields = 2});
  CHECK(r.fields.size() == 2);
  CHECK(r.truncated);
  // Names come from the guest: what is not printable is shown as '?', so the JSON stays valid.
  const int odd = btf__add_struct(b, "odd", 1);
  REQUIRE(btf__add_field(b, "bad\xff\x01name", u8, 0, 0) == 0);
  r = render_btf_value(b, odd, v);
  REQUIRE(r.fields.size() == 1);
  CHECK(r.fields[0].name == "bad??name");
  btf__free(b);
}
