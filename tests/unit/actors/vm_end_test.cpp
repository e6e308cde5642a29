// How the vm actor names the end of a run (run_finished.how and detail, result.json's
// vm_end), for each reason to stop, and that the first reason wins.
#include <catch2/catch.hpp>

#include <chrono>

#include "actors/vm_end.hpp"

using namespace ktstr;
using actors::VmEnd;
using msg::run_end;
using namespace std::chrono_literals;

TEST_CASE("vm end: the guest's own ends keep their names") {
  auto off = actors::end_for(msg::guest_stopped{1, msg::guest_stop::power_off, "ACPI S5 power-off"});
  CHECK(off.how == run_end::power_off);
  CHECK(off.detail == "vCPU 1: ACPI S5 power-off");
  CHECK(actors::end_for(msg::guest_stopped{0, msg::guest_stop::reset, "i8042 reset"}).how == run_end::reset);
  CHECK(actors::end_for(msg::guest_stopped{0, msg::guest_stop::shutdown, "triple fault"}).how == run_end::shutdown);
}

TEST_CASE("vm end: watchdog deadline, stall, panic and vCPU errors") {
  auto deadline = actors::end_for_deadline(60s, 10s);
  CHECK(deadline.how == run_end::timeout);
  CHECK(deadline.detail == "run deadline of 60 s passed (+10 s grace)");

  auto stall = actors::end_for(msg::stall{12.345});
  CHECK(stall.how == run_end::hang);
  CHECK(stall.detail == "no guest output or heartbeat for 12.3 s");

  auto panic = actors::end_for(msg::kernel_panic{{"Kernel panic - not syncing"}, 1.5});
  CHECK(panic.how == run_end::panic);
  CHECK(panic.detail == "guest kernel panic at 1.500000 s");

  auto failed = actors::end_for(msg::vcpu_failed{3, "KVM_RUN: Bad address"});
  CHECK(failed.how == run_end::vcpu_failed);
  CHECK(failed.detail == "vCPU 3: KVM_RUN: Bad address");

  auto died = actors::end_for_vcpu_death(2, "unhandled_exception");
  CHECK(died.how == run_end::vcpu_failed);
  CHECK(died.detail == "vCPU 2 actor died: unhandled_exception");
}

TEST_CASE("vm end: stop requests, vCPUs gone and start failures") {
  CHECK(actors::end_for_stop_request().how == run_end::stopped);
  CHECK(actors::end_for_stop_request().detail == "stop requested");
  CHECK(actors::end_for_all_vcpus_gone().how == run_end::stopped);
  CHECK(actors::end_for_all_vcpus_gone().detail == "every vCPU left its loop");
  CHECK(actors::end_for_start_failure(true, "no /dev/kvm").how == run_end::no_kvm);
  auto vmm = actors::end_for_start_failure(false, "bad kernel");
  CHECK(vmm.how == run_end::vmm_error);
  CHECK(vmm.detail == "bad kernel");
}

TEST_CASE("vm end: the first reason to stop is the one reported") {
  actors::VmEndLatch latch;
  CHECK_FALSE(latch.decided());
  CHECK(latch.decide(actors::end_for(msg::kernel_panic{{}, 2.0})));
  CHECK_FALSE(latch.decide(actors::end_for(msg::guest_stopped{0, msg::guest_stop::reset, "i8042 reset"})));
  CHECK_FALSE(latch.decide(actors::end_for_deadline(60s, 10s)));
  CHECK(latch.decided());
  CHECK(latch.end().how == run_end::panic);
}

TEST_CASE("vm end: result.json's names for every end are today's strings") {
  CHECK(std::string(msg::to_string(run_end::power_off)) == "power-off");
  CHECK(std::string(msg::to_string(run_end::reset)) == "reset");
  CHECK(std::string(msg::to_string(run_end::shutdown)) == "shutdown");
  CHECK(std::string(msg::to_string(run_end::panic)) == "panic");
  CHECK(std::string(msg::to_string(run_end::timeout)) == "timeout");
  CHECK(std::string(msg::to_string(run_end::hang)) == "hang");
  CHECK(std::string(msg::to_string(run_end::vcpu_failed)) == "vcpu-failed");
  CHECK(std::string(msg::to_string(run_end::vmm_error)) == "vmm-error");
  CHECK(std::string(msg::to_string(run_end::no_kvm)) == "no-kvm");
  CHECK(std::string(msg::to_string(run_end::stopped)) == "stopped");
  CHECK(std::string(msg::to_string(msg::guest_stop::power_off)) == "power-off");
  CHECK(std::string(msg::to_string(msg::guest_stop::reset)) == "reset");
  CHECK(std::string(msg::to_string(msg::guest_stop::shutdown)) == "shutdown");
}

TEST_CASE("vm end: a death or hang is frozen for evidence before the stop - a normal end is not") {
  for (auto how : {run_end::shutdown, run_end::vcpu_failed, run_end::panic, run_end::hang, run_end::timeout})
    CHECK(actors::wants_vcpu_evidence(how));
  for (auto how : {run_end::power_off, run_end::reset, run_end::stopped, run_end::vmm_error, run_end::no_kvm})
    CHECK_FALSE(actors::wants_vcpu_evidence(how));
}
