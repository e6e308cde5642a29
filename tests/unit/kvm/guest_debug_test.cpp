// Hardware watchpoints: the DR7 encoding (GUEST-KERNEL.md §5.2's worked examples), slot
// validation, the #DB decision table, and a crafted KVM_EXIT_DEBUG on a plain buffer. No
// /dev/kvm needed.
#include <catch2/catch.hpp>

#include <linux/kvm.h>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "kvm/guest_debug.hpp"
#include "kvm/io_bus.hpp"
#include "kvm/kick.hpp"
#include "kvm/machine_events.hpp"
#include "kvm/serial.hpp"
#include "kvm/vcpu_exit.hpp"

using namespace ktstr::kvm;

namespace {

constexpr uint64_t kExitKind = 0xffffffff82a55ec8ull;  // the fixture's &scx_exit_kind (6.12, unslid)
constexpr uint64_t kDr6ActiveLow = 0xffff0ff0ull;      // what KVM ORs into every reported DR6

WatchSlots one(uint32_t slot, uint32_t length, WatchKind kind = WatchKind::write, uint64_t address = kExitKind) {
  WatchSlots slots{};
  slots[slot] = WatchSlot{slot, address, length, kind};
  return slots;
}

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("guest debug: a 4-byte write watch in each slot gives the fact sheet's DR7", "[guest-debug]") {
  CHECK(encode_dr7(one(0, 4)) == 0x000D0402);
  CHECK(encode_dr7(one(1, 4)) == 0x00D00408);
  CHECK(encode_dr7(one(2, 4)) == 0x0D000420);
  CHECK(encode_dr7(one(3, 4)) == 0xD0000480);
}

TEST_CASE("guest debug: length and kind set the slot's nibble", "[guest-debug]") {
  CHECK(encode_dr7(one(0, 8)) == 0x00090402);  // 8-byte write: LEN 10, R/W 01
  CHECK(encode_dr7(one(3, 8)) == 0x90000480);
  CHECK(encode_dr7(one(0, 1)) == 0x00010402);  // LEN 00
  CHECK(encode_dr7(one(0, 2)) == 0x00050402);  // LEN 01
  CHECK(encode_dr7(one(1, 4, WatchKind::read_write)) == 0x00F00408);
  CHECK(encode_dr7(one(2, 8, WatchKind::read_write)) == 0x0B000420);
  CHECK(encode_dr7(WatchSlots{}) == 0x400);
}

TEST_CASE("guest debug: slots combine - the rest of debugreg stays zero", "[guest-debug]") {
  WatchSlots slots{};
  slots[0] = WatchSlot{0, kExitKind, 4, WatchKind::write};
  slots[3] = WatchSlot{3, 0xffff888000001000ull, 8, WatchKind::read_write};
  const kvm_guest_debug dbg = encode_guest_debug(slots);
  CHECK(dbg.control == (KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP));
  CHECK(dbg.control == 0x20001);
  CHECK(dbg.arch.debugreg[0] == kExitKind);
  CHECK(dbg.arch.debugreg[1] == 0);
  CHECK(dbg.arch.debugreg[2] == 0);
  CHECK(dbg.arch.debugreg[3] == 0xffff888000001000ull);
  CHECK(dbg.arch.debugreg[4] == 0);
  CHECK(dbg.arch.debugreg[5] == 0);
  CHECK(dbg.arch.debugreg[6] == 0);
  CHECK(dbg.arch.debugreg[7] == (0x400 | 0x2 | 0x80 | 0x000D0000 | 0xB0000000));
  CHECK(armed_slots_mask(slots) == 0b1001);
}

TEST_CASE("guest debug: the fixture's exit-kind watch is control 0x20001, DR7 0xD0402", "[guest-debug]") {
  const kvm_guest_debug dbg = encode_guest_debug(one(0, 4));
  CHECK(dbg.control == 0x20001);
  CHECK(dbg.arch.debugreg[0] == kExitKind);
  CHECK(dbg.arch.debugreg[7] == 0xD0402);
}

TEST_CASE("guest debug: no slot armed switches guest debugging off entirely", "[guest-debug]") {
  const kvm_guest_debug dbg = encode_guest_debug(WatchSlots{});
  CHECK(dbg.control == 0);
  for (uint64_t reg : dbg.arch.debugreg) CHECK(reg == 0);
  CHECK(armed_slots_mask(WatchSlots{}) == 0);
}

TEST_CASE("guest debug: validation names what is wrong with a slot", "[guest-debug]") {
  CHECK_FALSE(watch_slot_error(WatchSlot{0, kExitKind, 4, WatchKind::write}));
  CHECK_FALSE(watch_slot_error(WatchSlot{3, 0x1001, 1, WatchKind::read_write}));
  CHECK_FALSE(watch_slot_error(WatchSlot{2, 0x1002, 2, WatchKind::write}));
  CHECK_FALSE(watch_slot_error(WatchSlot{1, 0x1008, 8, WatchKind::write}));

  auto slot4 = watch_slot_error(WatchSlot{4, 0x1000, 4, WatchKind::write});
  REQUIRE(slot4);
  CHECK(*slot4 == "watchpoint slot 4 does not exist (the debug registers have slots 0-3)");

  for (uint32_t length : {0u, 3u, 5u, 16u}) {
    auto why = watch_slot_error(WatchSlot{1, 0x1000, length, WatchKind::write});
    REQUIRE(why);
    CHECK(*why == "watchpoint slot 1: length " + std::to_string(length) + " is not 1, 2, 4 or 8 bytes");
  }

  auto misaligned = watch_slot_error(WatchSlot{0, 0xffffffff82a55ecc, 8, WatchKind::write});
  REQUIRE(misaligned);
  CHECK(*misaligned == "watchpoint slot 0: address 0xffffffff82a55ecc is not aligned to its length of 8 bytes");
  CHECK(watch_slot_error(WatchSlot{0, 0x1002, 4, WatchKind::write}));
  CHECK(watch_slot_error(WatchSlot{0, 0x1001, 2, WatchKind::write}));

  auto kind = watch_slot_error(WatchSlot{0, 0x1000, 4, static_cast<WatchKind>(0)});  // 00 is instruction fetch
  REQUIRE(kind);
  CHECK(contains(*kind, "kind 0 is neither write (1) nor read/write (3)"));
}

TEST_CASE("guest debug: encoding refuses an invalid or misplaced slot", "[guest-debug]") {
  CHECK_THROWS_AS(encode_guest_debug(one(0, 3)), std::invalid_argument);
  CHECK_THROWS_AS(encode_guest_debug(one(0, 8, WatchKind::write, 0x1004)), std::invalid_argument);
  WatchSlots misplaced{};
  misplaced[1] = WatchSlot{2, 0x1000, 4, WatchKind::write};
  CHECK_THROWS_WITH(encode_guest_debug(misplaced), "watchpoint slot 2 stored at index 1");
}

TEST_CASE("guest debug: decision table: our armed slots are ours and the guest sees nothing", "[guest-debug]") {
  auto d = classify_debug_exit(kDr6ActiveLow | 0x1, 0b0001);
  CHECK(d.our_slots_hit == std::vector<uint32_t>{0});
  CHECK_FALSE(d.reinject);

  d = classify_debug_exit(kDr6ActiveLow | 0x8, 0b1000);
  CHECK(d.our_slots_hit == std::vector<uint32_t>{3});
  CHECK_FALSE(d.reinject);

  // One instruction can fire several slots (an 8-byte store over two 4-byte watches).
  d = classify_debug_exit(kDr6ActiveLow | 0x5, 0b0101);
  CHECK(d.our_slots_hit == std::vector<uint32_t>{0, 2});
  CHECK_FALSE(d.reinject);

  d = classify_debug_exit(0xF, 0xF);  // without the active-low bits, too
  CHECK(d.our_slots_hit == std::vector<uint32_t>{0, 1, 2, 3});
  CHECK_FALSE(d.reinject);
}

TEST_CASE("guest debug: decision table: the guest's own #DB goes back to it", "[guest-debug]") {
  // Single step (BS), no slot armed or armed.
  auto d = classify_debug_exit(kDr6ActiveLow | kDr6Bs, 0b0000);
  CHECK(d.our_slots_hit.empty());
  CHECK(d.reinject);
  d = classify_debug_exit(kDr6ActiveLow | kDr6Bs, 0b1111);
  CHECK(d.our_slots_hit.empty());
  CHECK(d.reinject);
  // A debug-register access under DR7.GD (BD), a task switch (BT).
  CHECK(classify_debug_exit(kDr6ActiveLow | kDr6Bd, 0b0001).reinject);
  CHECK(classify_debug_exit(kDr6ActiveLow | kDr6Bt, 0b0001).reinject);
  // The B bit of a slot we did not arm.
  d = classify_debug_exit(kDr6ActiveLow | 0x2, 0b0001);
  CHECK(d.our_slots_hit.empty());
  CHECK(d.reinject);
  // No cause bit at all (ICEBP / INT1).
  d = classify_debug_exit(kDr6ActiveLow, 0b0001);
  CHECK(d.our_slots_hit.empty());
  CHECK(d.reinject);
  d = classify_debug_exit(0, 0);
  CHECK(d.our_slots_hit.empty());
  CHECK(d.reinject);
}

TEST_CASE("guest debug: decision table: our hit with a guest cause alongside does both", "[guest-debug]") {
  auto d = classify_debug_exit(kDr6ActiveLow | kDr6Bs | 0x1, 0b0001);  // single-stepped over a watched store
  CHECK(d.our_slots_hit == std::vector<uint32_t>{0});
  CHECK(d.reinject);
  d = classify_debug_exit(kDr6ActiveLow | 0x3, 0b0001);  // slot 1 not ours
  CHECK(d.our_slots_hit == std::vector<uint32_t>{0});
  CHECK(d.reinject);
  d = classify_debug_exit(kDr6ActiveLow | kDr6Bd | 0x4, 0b0100);
  CHECK(d.our_slots_hit == std::vector<uint32_t>{2});
  CHECK(d.reinject);
}

TEST_CASE("guest debug: the guest's DR6 keeps its own causes and loses our B bits", "[guest-debug]") {
  CHECK(guest_dr6(kDr6ActiveLow | kDr6Bs | 0x1, 0b0001) == (kDr6ActiveLow | kDr6Bs));
  CHECK(guest_dr6(kDr6ActiveLow | 0x3, 0b0001) == (kDr6ActiveLow | 0x2));
  CHECK(guest_dr6(kDr6ActiveLow | kDr6Bs, 0b0000) == (kDr6ActiveLow | kDr6Bs));
}

TEST_CASE("guest debug: a #DB is queued as an injected exception unless one is already queued", "[guest-debug]") {
  kvm_vcpu_events events{};
  events.flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW;
  events.nmi.pending = 1;
  events.interrupt.shadow = 2;
  auto queued = with_debug_exception(events);
  REQUIRE(queued);
  CHECK(queued->exception.injected == 1);
  CHECK(queued->exception.nr == 1);
  CHECK(queued->exception.has_error_code == 0);
  CHECK(queued->exception.pending == 0);
  CHECK(queued->flags == events.flags);  // the rest goes back as it came
  CHECK(queued->nmi.pending == 1);
  CHECK(queued->interrupt.shadow == 2);

  kvm_vcpu_events busy{};
  busy.exception.injected = 1;
  busy.exception.nr = 14;
  CHECK_FALSE(with_debug_exception(busy));
  kvm_vcpu_events pending{};
  pending.exception.pending = 1;
  CHECK_FALSE(with_debug_exception(pending));
}

namespace {

struct DebugExit {
  alignas(kvm_run) uint8_t page[4096] = {};
  // SAFETY: page is zeroed, aligned for kvm_run and larger than it.
  kvm_run& run = *reinterpret_cast<kvm_run*>(page);
  Uart16550 com1{[](bool) {}, [](std::string_view) {}};
  Uart16550 com2{[](bool) {}, [](std::string_view) {}};
  MachineEvents events;
  IoBus bus{com1, com2, events};
  VcpuKick kick;  // never attached

  RunResult dispatch() { return dispatch_exit(0, run, sizeof page, kick, bus, events); }
};

}  // namespace

TEST_CASE("guest debug: a KVM_EXIT_DEBUG is reported with its vector, pc, DR6 and DR7", "[guest-debug]") {
  DebugExit e;
  e.run.exit_reason = KVM_EXIT_DEBUG;
  e.run.debug.arch.exception = 1;
  e.run.debug.arch.pc = 0xffffffff811d3c61ull;
  e.run.debug.arch.dr6 = kDr6ActiveLow | 0x1;
  e.run.debug.arch.dr7 = 0xD0402;
  const RunResult r = e.dispatch();
  CHECK(r.outcome == RunOutcome::debug);
  CHECK(std::string(to_string(r.outcome)) == "debug");
  CHECK(r.debug.exception == 1);
  CHECK(r.debug.pc == 0xffffffff811d3c61ull);
  CHECK(r.debug.dr6 == (kDr6ActiveLow | 0x1));
  CHECK(r.debug.dr7 == 0xD0402);
  CHECK(r.detail == "debug exit, vector 1");

  const auto d = classify_debug_exit(r.debug.dr6, armed_slots_mask(one(0, 4)));
  CHECK(d.our_slots_hit == std::vector<uint32_t>{0});
  CHECK_FALSE(d.reinject);
}

TEST_CASE("guest debug: other exits leave the debug fields zero", "[guest-debug]") {
  DebugExit e;
  e.run.debug.arch.pc = 0x1234;  // a stale union member: not ours to report
  e.run.exit_reason = KVM_EXIT_HLT;
  const RunResult r = e.dispatch();
  CHECK(r.outcome == RunOutcome::resume);
  CHECK(r.debug.pc == 0);
  CHECK(r.debug.dr6 == 0);
}
