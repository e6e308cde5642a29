#include "actors/vm_end.hpp"

#include <spdlog/fmt/fmt.h>

namespace ktstr::actors {

namespace {

std::string seconds(std::chrono::milliseconds d) { return std::to_string(d.count() / 1000); }

msg::run_end run_end_of(msg::guest_stop how) {
  switch (how) {
    case msg::guest_stop::power_off: return msg::run_end::power_off;
    case msg::guest_stop::reset: return msg::run_end::reset;
    case msg::guest_stop::shutdown: return msg::run_end::shutdown;
  }
  return msg::run_end::shutdown;
}

}  // namespace

VmEnd end_for(const msg::guest_stopped& g) {
  return {run_end_of(g.how), "vCPU " + std::to_string(g.vcpu) + ": " + g.detail};
}

VmEnd end_for(const msg::vcpu_failed& f) {
  return {msg::run_end::vcpu_failed, "vCPU " + std::to_string(f.vcpu) + ": " + f.error};
}

VmEnd end_for(const msg::kernel_panic& p) {
  return {msg::run_end::panic, "guest kernel panic at " + std::to_string(p.at_s) + " s"};
}

VmEnd end_for(const msg::stall& s) {
  return {msg::run_end::hang, fmt::format("no guest output or heartbeat for {:.1f} s", s.silent_s)};
}

VmEnd end_for_deadline(std::chrono::milliseconds run_deadline, std::chrono::milliseconds hard_grace) {
  return {msg::run_end::timeout,
          "run deadline of " + seconds(run_deadline) + " s passed (+" + seconds(hard_grace) + " s grace)"};
}

VmEnd end_for_vcpu_death(uint32_t vcpu, const std::string& reason) {
  return {msg::run_end::vcpu_failed, "vCPU " + std::to_string(vcpu) + " actor died: " + reason};
}

VmEnd end_for_stop_request() { return {msg::run_end::stopped, "stop requested"}; }

VmEnd end_for_all_vcpus_gone() { return {msg::run_end::stopped, "every vCPU left its loop"}; }

VmEnd end_for_start_failure(bool no_kvm, const std::string& what) {
  return {no_kvm ? msg::run_end::no_kvm : msg::run_end::vmm_error, what};
}

bool wants_vcpu_evidence(msg::run_end how) {
  switch (how) {
    case msg::run_end::shutdown:
    case msg::run_end::vcpu_failed:
    case msg::run_end::panic:
    case msg::run_end::hang:
    case msg::run_end::timeout: return true;
    default: return false;
  }
}

}  // namespace ktstr::actors
