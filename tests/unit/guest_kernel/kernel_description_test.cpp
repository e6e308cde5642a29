#include <catch2/catch.hpp>
#include <fstream>

#include "kvm/error.hpp"
#include "kvm/guest_kernel/image_error.hpp"
#include "kvm/guest_kernel/kernel_description.hpp"
#include "kvm/guest_kernel/layout_json.hpp"
#include "tests/support/fake_bzimage.hpp"
#include "tests/unit/guest_kernel/fake_payload.hpp"
#include "tests/unit/guest_kernel/kernel_images.hpp"

using namespace ktstr;
using guest_kernel::describe_kernel;

TEST_CASE("description: the fixture's layout, from kallsyms and from System.map", "[guest_kernel][description]") {
  const auto kernel = test::scx_fixture_kernel();
  if (!kernel) {
    WARN("test not run: no fixture kernel under " << test::fixtures_dir());
    return;
  }
  const auto d = describe_kernel(kernel->bzimage);
  const auto map = guest_kernel::load_system_map(kernel->system_map);
  const auto& l = d.layout;
  WARN("fixture: " << d.codec << " " << d.compressed_size << " -> " << d.payload_size << " bytes in " << d.decompress_seconds
                   << " s; " << d.symbols.size() << " symbols (" << d.symbol_source << ") in " << d.symbols_seconds
                   << " s; BTF " << d.btf_size << " bytes in " << d.btf_seconds << " s");
  CHECK(d.codec == "gzip");
  CHECK(d.symbol_source == "kallsyms");
  CHECK(d.btf_size == 0x46dd73);
  CHECK(l.release == "6.12.117");  // its banner: "Linux version 6.12.117 (root@vm) ..."; -scx is only the cache name
  CHECK(l.symbols.text == map.address_of("_text"));
  CHECK(l.symbols.entry_syscall_64 == map.address_of("entry_SYSCALL_64"));
  CHECK(l.symbols.linux_banner == map.address_of("linux_banner"));
  CHECK(l.symbols.page_offset_base == map.address_of("page_offset_base"));
  CHECK(l.symbols.pgtable_l5_enabled == map.address_of("__pgtable_l5_enabled"));
  CHECK(l.symbols.per_cpu_offset == map.address_of("__per_cpu_offset"));
  CHECK(l.symbols.cpu_online_mask == map.address_of("__cpu_online_mask"));
  CHECK(l.symbols.nr_cpu_ids == map.address_of("nr_cpu_ids"));
  CHECK(l.symbols.jiffies_64 == map.address_of("jiffies_64"));
  CHECK(l.symbols.init_top_pgt == map.address_of("init_top_pgt"));
  CHECK(l.symbols.scx_watchdog_timeout == map.address_of("scx_watchdog_timeout"));
  CHECK(l.symbols.scx_exit_kind == 0xffffffff82a55ec8ULL);
  CHECK(l.symbols.scx_ops_enable_state_var == 0xffffffff82a55eccULL);
  CHECK(l.symbols.scx_ops == 0xffffffff833caaa0ULL);
  CHECK(l.symbols.scx_root == 0);
  CHECK(l.missing.count("scx_root"));
  CHECK(l.missing.count("scx_sched.exit_kind"));
  CHECK(l.runqueues == 0x2f4c0);
  CHECK(l.percpu_zero_based);
  CHECK(l.nr_cpus_max == 64);  // CONFIG_NR_CPUS=64
  CHECK(l.rq.size == 0xe00);
  CHECK(l.rq.cfs_h_nr_queued.offset == 0x94);
  CHECK(l.rq.scx_local_dsq_nr.offset == 0x908);
  CHECK(l.rq.curr.offset == 0xaf8);
  CHECK(l.task.scx_runnable_node.offset == 0x318);
  CHECK(l.task.comm.size == 16);
  CHECK(l.ops_name.offset == 0x128);
  CHECK(l.ops_timeout_ms.offset == 0x118);
  CHECK(l.has_sched_ext());
  CHECK(l.missing.size() == 2);
  // The BPF maps (read at a freeze): map_idr and the members their reader needs.
  CHECK(l.symbols.map_idr == map.address_of("map_idr"));
  CHECK(l.bpf.idr_xa_head.offset == 0x8);
  CHECK(l.bpf.xa_node_slots.offset == 0x28);
  CHECK(l.bpf.xa_node_slots.size == 512);
  CHECK(l.bpf.map_name.offset == 0x58);
  CHECK(l.bpf.map_name.size == 16);
  CHECK(l.bpf.map_type.offset == 0x18);
  CHECK(l.bpf.id.offset == 0x34);
  CHECK(l.bpf.btf.offset == 0x50);
  CHECK(l.bpf.btf_value_type_id.offset == 0x48);
  CHECK(l.bpf.array_elem_size.offset == 0xf0);
  CHECK(l.bpf.array_value.offset == 0x100);
  CHECK(l.bpf.array_value.size == 1);  // char value[]: a flexible array member, one element's size
  CHECK(l.bpf.btf_data.offset == 0);
  CHECK(l.bpf.btf_data_size.offset == 0x50);
  CHECK(l.bpf.htab_buckets.offset == 0x190);
  CHECK(l.bpf.htab_n_buckets.offset == 0x2f8);
  CHECK(l.bpf.bucket_size == 0x10);
  CHECK(l.bpf.elem_key.offset == 0x30);

  const auto from_map = describe_kernel(kernel->bzimage, kernel->system_map);
  CHECK(from_map.symbol_source == "System.map");
  CHECK(from_map.symbols.size() == map.size());
  // The same layout either way; only the reasons name the other source.
  auto a = guest_kernel::to_json(from_map.layout), b = guest_kernel::to_json(l);
  CHECK(a["missing"].size() == b["missing"].size());
  a.erase("missing");
  b.erase("missing");
  CHECK(a == b);
}

TEST_CASE("description: Debian 6.1 has no sched_ext, and that is not an error", "[guest_kernel][description]") {
  const auto kernel = test::debian_kernel();
  if (!kernel) {
    WARN("test not run: no Debian kernel in the cache (scripts/fetch-kernel.sh)");
    return;
  }
  const auto d = describe_kernel(kernel->bzimage);
  const auto& l = d.layout;
  WARN("Debian: " << d.codec << " " << d.compressed_size << " -> " << d.payload_size << " bytes in " << d.decompress_seconds
                  << " s; " << d.symbols.size() << " symbols (" << d.symbol_source << ") in " << d.symbols_seconds
                  << " s; BTF " << d.btf_size << " bytes in " << d.btf_seconds << " s");
  CHECK(d.codec == "xz");
  CHECK(d.payload_size == 65'906'612);
  CHECK(l.release.starts_with("6.1.0-"));
  CHECK(l.symbols.text == 0xffffffff81000000ULL);
  CHECK(l.symbols.jiffies_64 != 0);
  CHECK(l.symbols.per_cpu_offset != 0);
  CHECK(l.runqueues == 0x31c40);
  CHECK(l.rq.curr.offset == 0x960);
  CHECK(l.rq.clock.offset == 0x990);
  CHECK(l.rq.cpu.offset == 0xa70);
  CHECK(l.task.pid.offset == 0x970);
  CHECK(l.task.comm.offset == 0xba0);
  CHECK(l.rq.cfs_h_nr_queued.offset == 0x94);
  CHECK(l.rq.size == 0xcc0);
  CHECK_FALSE(l.has_sched_ext());
  for (const char* item : {"scx_exit_kind", "scx_ops_enable_state_var", "scx_ops", "scx_watchdog_timeout", "scx_root",
                           "rq.scx.nr_running", "rq.scx.local_dsq.nr", "task_struct.scx.runnable_node", "sched_ext_ops.name"}) {
    INFO(item);
    CHECK(l.missing.count(item));
  }
  CHECK_FALSE(l.missing.count("rq.curr"));
  // NR_CPUS as the kernel's config states it, when the package's config is beside it.
  const auto config = kernel->bzimage.parent_path() / ("config-" + kernel->bzimage.filename().string().substr(8));
  std::ifstream in(config);
  std::string line;
  while (std::getline(in, line))
    if (line.starts_with("CONFIG_NR_CPUS=")) CHECK(l.nr_cpus_max == std::stoul(line.substr(15)));
  CHECK(l.nr_cpus_max >= 64);
}

TEST_CASE("description: a missing file or a non-bzImage is a kernel_image error", "[guest_kernel][description]") {
  CHECK_THROWS_AS(describe_kernel("/nonexistent/bzImage"), kvm::Error);
  test::FakeBzImageSpec spec;
  const auto dir = std::filesystem::temp_directory_path();
  const auto path = dir / ("ktstr-describe-" + std::to_string(::getpid()));
  test::write_file(path, test::fake_bzimage(spec));  // a bzImage with no payload
  CHECK_THROWS_WITH(describe_kernel(path), Catch::StartsWith("no compressed payload"));
  std::filesystem::remove(path);
}

TEST_CASE("description: a kernel without BTF, or without kallsyms and System.map, is refused with the reason first",
          "[guest_kernel][description]") {
  const auto dir = std::filesystem::temp_directory_path();
  auto write_kernel = [&](const std::string& name, const std::vector<uint8_t>& elf) {
    const auto path = dir / ("ktstr-describe-" + name + "-" + std::to_string(::getpid()));
    test::write_file(path, test::bzimage_bytes_with(test::compress(elf, "gzip")));
    return path;
  };
  const auto no_btf = write_kernel("no-btf", test::minimal_elf({{".rodata", std::vector<uint8_t>(4096, 0x41)}}));
  CHECK_THROWS_WITH(describe_kernel(no_btf), Catch::StartsWith("no BTF: "));
  const auto no_kallsyms =
      write_kernel("no-kallsyms", test::minimal_elf({{".BTF", test::empty_btf()}, {".rodata", std::vector<uint8_t>(4096, 0)}}));
  CHECK_THROWS_WITH(describe_kernel(no_kallsyms), Catch::StartsWith("no symbols: no kallsyms tables"));
  CHECK_THROWS_WITH(describe_kernel(no_kallsyms), Catch::EndsWith("and no System.map given"));
  // With a System.map the same kernel is described; what BTF lacks is listed as missing.
  const auto map = dir / ("ktstr-describe-map-" + std::to_string(::getpid()));
  std::ofstream(map) << "ffffffff81000000 T _text\n0000000000000000 D __per_cpu_start\n";
  const auto d = describe_kernel(no_kallsyms, map);
  CHECK(d.symbol_source == "System.map");
  CHECK(d.layout.symbols.text == 0xffffffff81000000ULL);
  CHECK(d.layout.missing.at("rq.curr") == "rq.curr: no struct rq in BTF");
  CHECK(d.layout.missing.at("jiffies_64") == "not in System.map");
  for (const auto& p : {no_btf, no_kallsyms, map}) std::filesystem::remove(p);
}

TEST_CASE("layout JSON: round trip, and anything malformed is refused", "[guest_kernel][description]") {
  guest_kernel::KernelLayout l;
  l.release = "6.12.117-scx";
  l.symbols.scx_exit_kind = 0xffffffff82a55ec8ULL;
  l.runqueues = 0x2f4c0;
  l.nr_cpus_max = 64;
  l.rq.size = 0xe00;
  l.rq.curr = {0xaf8, 8};
  l.task.comm = {0x828, 16};
  l.missing["scx_root"] = "not in kallsyms";
  const auto j = guest_kernel::to_json(l);
  const auto back = guest_kernel::layout_from_json(j);
  CHECK(guest_kernel::to_json(back) == j);
  CHECK(back.symbols.scx_exit_kind == 0xffffffff82a55ec8ULL);
  CHECK(back.rq.curr.offset == 0xaf8);
  CHECK(back.missing.at("scx_root") == "not in kallsyms");

  auto no_symbol = j;
  no_symbol["symbols"].erase("jiffies_64");
  CHECK_THROWS(guest_kernel::layout_from_json(no_symbol));
  auto wrong_type = j;
  wrong_type["fields"]["rq.curr"]["offset"] = "0xaf8";
  CHECK_THROWS(guest_kernel::layout_from_json(wrong_type));
  auto negative = j;
  negative["runqueues"] = -1;
  CHECK_THROWS(guest_kernel::layout_from_json(negative));
  auto too_big = j;
  too_big["fields"]["rq.curr"]["size"] = uint64_t{1} << 32;
  CHECK_THROWS(guest_kernel::layout_from_json(too_big));
  CHECK_THROWS(guest_kernel::layout_from_json(nlohmann::json::array()));
}
