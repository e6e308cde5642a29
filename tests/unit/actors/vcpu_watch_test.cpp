// A vCPU's watchpoint slots (what the vcpu actor does on arm / disarm / a debug exit),
// with KVM_SET_GUEST_DEBUG stood in for: no /dev/kvm needed.
#include <catch2/catch.hpp>

#include <caf/all.hpp>
#include <linux/kvm.h>

#include <optional>
#include <stdexcept>
#include <vector>

#include "actors/interfaces.hpp"
#include "actors/vcpu_watch.hpp"
#include "kvm/error.hpp"

using namespace ktstr;
using actors::VcpuWatch;

namespace {

struct FakeKvm {
  std::vector<kvm_guest_debug> applied;
  bool refuse = false;

  VcpuWatch::SetGuestDebug setter() {
    return [this](const kvm_guest_debug& d) {
      if (refuse) throw kvm::Error(kvm::ErrorKind::kvm, "KVM_SET_GUEST_DEBUG (vCPU 2): Invalid argument");
      applied.push_back(d);
    };
  }
};

msg::arm_watchpoint exit_kind_watch(uint32_t slot = 0) {
  return {slot, 0xffffffff82a55ec8ull, 4, msg::watch_kind::write};
}

}  // namespace

TEST_CASE("vcpu watch: arming sets the debug registers and answers ok", "[guest-debug]") {
  FakeKvm kvm;
  VcpuWatch watch(2, kvm.setter());
  auto r = watch.arm(exit_kind_watch());
  CHECK(r.ok);
  CHECK(r.vcpu == 2);
  CHECK(r.slot == 0);
  CHECK(r.error.empty());
  REQUIRE(kvm.applied.size() == 1);
  CHECK(kvm.applied[0].control == 0x20001);
  CHECK(kvm.applied[0].arch.debugreg[0] == 0xffffffff82a55ec8ull);
  CHECK(kvm.applied[0].arch.debugreg[7] == 0xD0402);

  r = watch.arm({1, 0xffffffff82a55ed0ull, 8, msg::watch_kind::write});
  CHECK(r.ok);
  REQUIRE(kvm.applied.size() == 2);
  CHECK(kvm.applied[1].arch.debugreg[0] == 0xffffffff82a55ec8ull);  // slot 0 stays
  CHECK(kvm.applied[1].arch.debugreg[1] == 0xffffffff82a55ed0ull);
  CHECK(kvm.applied[1].arch.debugreg[7] == (0xD0402 | 0x8 | 0x00900000));
}

TEST_CASE("vcpu watch: a bad request is refused before KVM sees it", "[guest-debug]") {
  FakeKvm kvm;
  VcpuWatch watch(0, kvm.setter());
  auto r = watch.arm({4, 0x1000, 4, msg::watch_kind::write});
  CHECK_FALSE(r.ok);
  CHECK(r.error == "watchpoint slot 4 does not exist (the debug registers have slots 0-3)");
  r = watch.arm({0, 0x1002, 4, msg::watch_kind::write});
  CHECK_FALSE(r.ok);
  CHECK(r.error == "watchpoint slot 0: address 0x1002 is not aligned to its length of 4 bytes");
  r = watch.arm({0, 0x1000, 3, msg::watch_kind::write});
  CHECK_FALSE(r.ok);
  r = watch.disarm({7});
  CHECK_FALSE(r.ok);
  CHECK(kvm.applied.empty());
  CHECK(kvm::armed_slots_mask(watch.slots()) == 0);
}

TEST_CASE("vcpu watch: when KVM refuses, the answer says why and the old slots stay", "[guest-debug]") {
  FakeKvm kvm;
  VcpuWatch watch(2, kvm.setter());
  REQUIRE(watch.arm(exit_kind_watch()).ok);
  kvm.refuse = true;
  auto r = watch.arm(exit_kind_watch(3));
  CHECK_FALSE(r.ok);
  CHECK(r.slot == 3);
  CHECK(r.error == "KVM_SET_GUEST_DEBUG (vCPU 2): Invalid argument");
  CHECK(kvm::armed_slots_mask(watch.slots()) == 0b0001);
  r = watch.disarm({0});
  CHECK_FALSE(r.ok);
  CHECK(kvm::armed_slots_mask(watch.slots()) == 0b0001);
}

TEST_CASE("vcpu watch: disarming the last slot switches guest debugging off", "[guest-debug]") {
  FakeKvm kvm;
  VcpuWatch watch(0, kvm.setter());
  REQUIRE(watch.arm(exit_kind_watch(0)).ok);
  REQUIRE(watch.arm(exit_kind_watch(2)).ok);
  CHECK(watch.disarm({0}).ok);
  REQUIRE(kvm.applied.size() == 3);
  CHECK(kvm.applied[2].control == 0x20001);
  CHECK(kvm.applied[2].arch.debugreg[0] == 0);
  CHECK(kvm.applied[2].arch.debugreg[7] == 0xD000420);
  CHECK(watch.disarm({2}).ok);
  CHECK(kvm.applied[3].control == 0);
  CHECK(kvm.applied[3].arch.debugreg[7] == 0);
  CHECK(watch.disarm({1}).ok);  // not armed: fine, still off
  CHECK(kvm.applied[4].control == 0);
}

TEST_CASE("vcpu watch: a debug exit on an armed slot is a hit, the guest's own #DB goes back", "[guest-debug]") {
  FakeKvm kvm;
  VcpuWatch watch(5, kvm.setter());
  REQUIRE(watch.arm(exit_kind_watch(1)).ok);

  kvm_debug_exit_arch ours{1, 0, 0xffffffff811d3c61ull, 0xffff0ff2ull, 0xD00408};
  auto a = watch.debug_exit(ours, 1.5);
  REQUIRE(a.hits.size() == 1);
  CHECK(a.hits[0].slot == 1);
  CHECK(a.hits[0].vcpu == 5);
  CHECK(a.hits[0].address == 0xffffffff82a55ec8ull);
  CHECK(a.hits[0].rip == 0xffffffff811d3c61ull);
  CHECK(a.hits[0].dr6 == 0xffff0ff2ull);
  CHECK(a.hits[0].at_s == 1.5);
  CHECK_FALSE(a.reinject);
  CHECK_FALSE(a.foreign_vector);

  kvm_debug_exit_arch step{1, 0, 0x1000, 0xffff0ff0ull | kvm::kDr6Bs, 0xD00408};
  a = watch.debug_exit(step, 2);
  CHECK(a.hits.empty());
  CHECK(a.reinject);
  CHECK(a.guest_dr6 == (0xffff0ff0ull | kvm::kDr6Bs));

  kvm_debug_exit_arch both{1, 0, 0x1000, 0xffff0ff2ull | kvm::kDr6Bs, 0xD00408};
  a = watch.debug_exit(both, 2);
  CHECK(a.hits.size() == 1);
  CHECK(a.reinject);
  CHECK(a.guest_dr6 == (0xffff0ff0ull | kvm::kDr6Bs));  // our B1 is not the guest's

  kvm_debug_exit_arch breakpoint{3, 0, 0x1000, 0, 0};
  a = watch.debug_exit(breakpoint, 2);
  CHECK(a.foreign_vector);
  CHECK(a.hits.empty());
  CHECK_FALSE(a.reinject);
}

TEST_CASE("vcpu watch: the watch listener takes hits and arming answers", "[guest-debug]") {
  STATIC_REQUIRE(caf::response_type<caf::signatures_of_t<actors::watchpoint_listener>, msg::watchpoint_hit>::valid);
  STATIC_REQUIRE(
      caf::response_type<caf::signatures_of_t<actors::watchpoint_listener>, msg::guest_debug_result>::valid);
  STATIC_REQUIRE_FALSE(
      caf::response_type<caf::signatures_of_t<actors::watchpoint_listener>, msg::arm_watchpoint>::valid);
}
