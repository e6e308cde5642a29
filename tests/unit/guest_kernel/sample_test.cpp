#include <catch2/catch.hpp>

#include "kvm/guest_kernel/guest_kernel.hpp"
#include "tests/support/synthetic_kernel.hpp"

using namespace ktstr::guest_kernel;
using namespace ktstr::guest_kernel::testing;

namespace {

GuestKernel located(const SyntheticKernel& k) { return GuestKernel::locate(k.layout, k.ram, k.input()); }

bool nothing_ok(const CpuSample& s) {
  return !s.nr_running.ok && !s.cfs_h_nr_queued.ok && !s.scx_nr_running.ok && !s.local_dsq_nr.ok && !s.scx_flags.ok &&
         !s.clock.ok && !s.curr.ok && !s.runnable_ok && s.runnable.empty();
}

}  // namespace

TEST_CASE("sample_cpu reads each CPU's runqueue, its current task and its runnable list") {
  for (bool zero_based : {true, false}) {
    SyntheticKernel k({.percpu_zero_based = zero_based});
    const uint64_t worker = k.add_task(1234, "stress-ng-cpu", 7, 0);
    const uint64_t a = k.add_task(2001, "waiter-a", 7, 0xFFFEDB08 + 10);
    const uint64_t b = k.add_task(2002, "waiter-b-with-a-long-name", 7, 0xFFFEDB08 + 25);
    k.write_u64(k.rq(2) + k.layout.rq.curr.offset, worker);
    k.set_runnable(2, {a, b});
    const auto g = located(k);
    CAPTURE(zero_based);
    for (uint32_t cpu = 0; cpu < 3; ++cpu) {
      const auto s = g.sample_cpu(cpu);
      CAPTURE(cpu);
      CHECK(s.cpu == cpu);
      CHECK((s.nr_running.ok && s.nr_running.value == 10 + cpu));
      CHECK((s.cfs_h_nr_queued.ok && s.cfs_h_nr_queued.value == 20 + cpu));
      CHECK((s.scx_nr_running.ok && s.scx_nr_running.value == 30 + cpu));
      CHECK((s.local_dsq_nr.ok && s.local_dsq_nr.value == 40 + cpu));
      CHECK((s.scx_flags.ok && s.scx_flags.value == 1));
      CHECK((s.clock.ok && s.clock.value == 1'000'000'007ull * (cpu + 1)));
      CHECK(s.runnable_ok);
      CHECK_FALSE(s.runnable_truncated);
    }
    const auto s = g.sample_cpu(2);
    CHECK(s.curr.ok);
    CHECK(s.curr.pid == 1234);
    CHECK(s.curr.comm == "stress-ng-cpu");
    CHECK(s.curr.policy == 7);
    REQUIRE(s.runnable.size() == 2);
    CHECK(s.runnable[0].pid == 2001);
    CHECK(s.runnable[0].comm == "waiter-a");
    CHECK(s.runnable[0].runnable_at == 0xFFFEDB08 + 10);
    CHECK(s.runnable[1].pid == 2002);
    CHECK(s.runnable[1].comm == "waiter-b-with-a");  // comm holds 15 characters
    CHECK(s.runnable[1].runnable_at == 0xFFFEDB08 + 25);
    CHECK_FALSE(g.sample_cpu(0).curr.ok);  // rq->curr is NULL there
  }
}

TEST_CASE("a cycle in the runnable list ends the walk, flagged, keeping the tasks read before it") {
  SyntheticKernel k;
  std::vector<uint64_t> tasks;
  for (int i = 0; i < 3; ++i) tasks.push_back(k.add_task(100 + i, "looper", 7, 50 + i));
  k.set_runnable(1, tasks);
  k.write_u64(k.runnable_node(tasks[2]), k.runnable_node(tasks[1]));  // third -> second
  auto s = located(k).sample_cpu(1);
  CHECK_FALSE(s.runnable_ok);
  CHECK_FALSE(s.runnable_truncated);
  REQUIRE(s.runnable.size() == 3);
  CHECK(s.runnable[2].pid == 102);
  CHECK((s.nr_running.ok && s.nr_running.value == 11));  // the rest of the sample stands

  k.write_u64(k.runnable_node(tasks[0]), k.runnable_node(tasks[0]));  // first -> itself
  s = located(k).sample_cpu(1);
  CHECK_FALSE(s.runnable_ok);
  CHECK(s.runnable.size() == 1);
}

TEST_CASE("a runnable list longer than the bound is cut at it and flagged truncated") {
  SyntheticKernel k;
  std::vector<uint64_t> tasks;
  for (int i = 0; i < 300; ++i) tasks.push_back(k.add_task(5000 + i, "many", 7, i));
  k.set_runnable(0, tasks);
  const auto s = located(k).sample_cpu(0);
  CHECK(s.runnable_truncated);
  CHECK_FALSE(s.runnable_ok);
  REQUIRE(s.runnable.size() == kRunnableListBound);
  CHECK(s.runnable.back().pid == 5000 + static_cast<int32_t>(kRunnableListBound) - 1);
}

TEST_CASE("guest pointers outside RAM, non-canonical or misaligned read as unreadable") {
  SyntheticKernel k;
  const uint64_t t = k.add_task(77, "victim", 7, 5);
  k.set_runnable(0, {t});
  const auto g = located(k);
  const uint64_t head = k.rq(0) + k.layout.rq.scx_runnable_list.offset;
  const uint64_t curr = k.rq(0) + k.layout.rq.curr.offset;
  const uint64_t bad[] = {
      k.page_offset_base + SyntheticKernel::kRamSize + 0x1000,  // direct map past RAM
      k.page_offset_base + 2 * kGiB,                            // past the direct map's tables
      0x0000123456789000ull,                                    // user half
      0x8000000000000000ull,                                    // non-canonical
      k.runnable_node(t) + 3,                                   // misaligned
      0xffffffffffffff00ull,                                    // wraps past the top when offset
      0,
  };
  for (uint64_t p : bad) {
    CAPTURE(p);
    k.write_u64(head, p);
    k.write_u64(curr, p);
    const auto s = g.sample_cpu(0);
    CHECK_FALSE(s.runnable_ok);
    CHECK(s.runnable.empty());
    CHECK_FALSE(s.curr.ok);
    CHECK(s.nr_running.ok);
  }
  // A node that points into RAM but at a task whose pid is torn.
  k.set_runnable(0, {t});
  k.write_u32(t + k.layout.task.pid.offset, 0x7fffffff);
  CHECK_FALSE(g.sample_cpu(0).runnable_ok);
}

TEST_CASE("a runqueue whose rq->cpu is another CPU, or a torn count, is not trusted") {
  SyntheticKernel k;
  k.write_u32(k.rq(1) + k.layout.rq.cpu.offset, 2);
  k.write_u32(k.rq(2) + k.layout.rq.nr_running.offset, 0xfffffff0u);
  const auto g = located(k);
  const auto s1 = g.sample_cpu(1);
  CHECK(s1.cpu == 1);
  CHECK(nothing_ok(s1));
  const auto s2 = g.sample_cpu(2);
  CHECK_FALSE(s2.nr_running.ok);
  CHECK((s2.scx_nr_running.ok && s2.scx_nr_running.value == 32));
  CHECK(nothing_ok(g.sample_cpu(3)));  // not online
  CHECK(nothing_ok(g.sample_cpu(0xffffffffu)));
}

TEST_CASE("sample_scx reads jiffies, the enable state, the exit kind, the watchdog timeout and the ops name") {
  SyntheticKernel k;
  const auto& s = k.layout.symbols;
  auto g = located(k);
  auto x = g.sample_scx();
  CHECK((x.jiffies.ok && x.jiffies.value == 0x1'0000'2468ull));
  CHECK((x.enable_state.ok && x.enable_state.value == 1));
  CHECK((x.exit_kind.ok && x.exit_kind.value == 0));
  CHECK((x.watchdog_timeout.ok && x.watchdog_timeout.value == 7500));
  CHECK(x.ops_name_ok);
  CHECK(x.ops_name == "synthetic_lavd");

  k.write_u32(k.image_va(s.scx_exit_kind), 1026);  // SCX_EXIT_ERROR_STALL
  k.write_u32(k.image_va(s.scx_ops_enable_state_var), 3);
  k.write_u64(k.image_va(s.scx_ops) + k.layout.ops_name.offset, 0);  // memset(&scx_ops, 0) at disable
  x = g.sample_scx();
  CHECK(x.exit_kind.value == 1026);
  CHECK(x.enable_state.value == 3);
  CHECK(x.ops_name_ok);
  CHECK(x.ops_name.empty());

  k.write_u32(k.image_va(s.scx_exit_kind), 0x12345);  // no such kind: torn
  k.write_u32(k.image_va(s.scx_ops_enable_state_var), 9);
  x = g.sample_scx();
  CHECK_FALSE(x.exit_kind.ok);
  CHECK_FALSE(x.enable_state.ok);
  CHECK(x.jiffies.ok);
  CHECK(g.unavailable().empty());
}

TEST_CASE("a 6.1-like kernel without sched_ext reports those fields unavailable with a reason, not zero") {
  SyntheticKernel k({.sched_ext = false, .release = "6.1.0-57-amd64"});
  const auto g = located(k);
  const auto s = g.sample_cpu(0);
  CHECK((s.nr_running.ok && s.nr_running.value == 10));
  CHECK((s.cfs_h_nr_queued.ok && s.cfs_h_nr_queued.value == 20));
  CHECK_FALSE(s.scx_nr_running.ok);
  CHECK_FALSE(s.local_dsq_nr.ok);
  CHECK_FALSE(s.scx_flags.ok);
  CHECK_FALSE(s.runnable_ok);
  const auto x = g.sample_scx();
  CHECK(x.jiffies.ok);
  CHECK_FALSE(x.exit_kind.ok);
  CHECK_FALSE(x.enable_state.ok);
  CHECK_FALSE(x.watchdog_timeout.ok);
  CHECK_FALSE(x.ops_name_ok);

  const auto u = g.unavailable();
  CHECK(u.at("scx_nr_running") == "rq.scx: not in this kernel's BTF");
  CHECK(u.at("local_dsq_nr") == "rq.scx: not in this kernel's BTF");
  CHECK(u.at("scx_flags") == "rq.scx: not in this kernel's BTF");
  CHECK(u.at("runnable") == "rq.scx: not in this kernel's BTF");
  CHECK(u.at("exit_kind") == "scx_exit_kind: no such symbol");
  CHECK(u.at("ops_name") == "scx_ops: no such symbol");
  CHECK(u.at("enable_state") == "scx_ops_enable_state_var: not in this kernel's layout");
  CHECK(u.count("watchdog_timeout") == 1);
  for (const char* present : {"nr_running", "cfs_h_nr_queued", "clock", "curr", "jiffies"}) CHECK(u.count(present) == 0);
}

TEST_CASE("a 6.16-like kernel: the exit kind and the ops name come from *scx_root, none while it is NULL") {
  SyntheticKernel k;
  auto layout = k.layout;
  auto& s = layout.symbols;
  s.scx_exit_kind = s.scx_ops_enable_state_var = s.scx_ops = 0;
  s.scx_root = SyntheticKernel::kTextLink + 0x01400500;
  layout.scx_sched_exit_kind = Field{0x200, 4};
  const uint64_t sch = k.page_offset_base + 0x700000;  // a kzalloc'd struct scx_sched
  k.write_string(sch + layout.ops_name.offset, "rusty");
  k.write_u32(sch + 0x200, 1025);  // SCX_EXIT_ERROR_BPF
  k.write_u64(k.image_va(s.scx_root), sch);
  const auto g = GuestKernel::locate(layout, k.ram, k.input());
  auto x = g.sample_scx();
  CHECK((x.exit_kind.ok && x.exit_kind.value == 1025));
  CHECK(x.ops_name_ok);
  CHECK(x.ops_name == "rusty");
  CHECK_FALSE(x.enable_state.ok);
  CHECK(g.unavailable().count("enable_state") == 1);
  CHECK(g.unavailable().count("exit_kind") == 0);
  // Slot 0 is aimed at scx_root->exit_kind, and follows scx_root.
  CHECK(g.exit_kind_address() == sch + 0x200);
  k.write_u64(k.image_va(s.scx_root), sch + 0x1000);
  CHECK(g.exit_kind_address() == sch + 0x1200);
  k.write_u64(k.image_va(s.scx_root), sch);

  k.write_u64(k.image_va(s.scx_root), 0);
  CHECK_FALSE(g.exit_kind_address());  // no scheduler: nothing to watch
  x = g.sample_scx();
  CHECK_FALSE(x.exit_kind.ok);
  CHECK(x.ops_name_ok);
  CHECK(x.ops_name.empty());
  k.write_u64(k.image_va(s.scx_root), sch + 4);  // misaligned: not a struct scx_sched
  x = g.sample_scx();
  CHECK_FALSE(x.exit_kind.ok);
  CHECK_FALSE(x.ops_name_ok);
}

TEST_CASE("the exit kind and the exit info (kind, code, reason, message, backtrace) are read - none, freed or torn "
          "say why") {
  using namespace ktstr::guest_kernel::testing;
  SyntheticKernel k;
  auto kernel = GuestKernel::locate(k.layout, k.ram, k.input());
  CHECK(kernel.exit_kind_address() == k.image_va(k.layout.symbols.scx_exit_kind));  // 6.12: the global
  CHECK(kernel.read_exit_kind().ok);
  CHECK(kernel.read_exit_kind().value == 0);
  auto none = kernel.read_exit_info();
  CHECK_FALSE(none.ok);
  CHECK_THAT(none.unavailable, Catch::Contains("none allocated, or already freed"));

  const uint64_t info = k.set_exit_info(1026, 0, "runnable task stall", "kworker/1:2[57] failed to run for 30.4s",
                                        {0xffffffff81234567ull, 0xffffffff81000010ull});
  k.write_u32(k.image_va(k.layout.symbols.scx_exit_kind), 1026);
  CHECK(kernel.read_exit_kind().value == 1026);
  auto ei = kernel.read_exit_info();
  REQUIRE(ei.ok);
  CHECK(ei.kind == 1026);
  CHECK(ei.reason == "runnable task stall");
  CHECK(ei.msg == "kworker/1:2[57] failed to run for 30.4s");
  CHECK(ei.backtrace == std::vector<uint64_t>{0xffffffff81234567ull, 0xffffffff81000010ull});

  // A torn kind, a wild msg pointer, a huge bt_len: bounded, never trusted.
  k.write_u32(info + k.layout.exit_info.bt_len.offset, 0xffffffff);
  k.write_u64(info + k.layout.exit_info.msg.offset, 0x1234);
  ei = kernel.read_exit_info();
  REQUIRE(ei.ok);
  CHECK(ei.msg.empty());
  CHECK(ei.backtrace.size() <= 64);
  k.write_u32(info + k.layout.exit_info.kind.offset, 5000);
  CHECK_FALSE(kernel.read_exit_info().ok);
  k.write_u32(k.image_va(k.layout.symbols.scx_exit_kind), 5000);
  CHECK_FALSE(kernel.read_exit_kind().ok);
}
