#include "actors/guest_view.hpp"

namespace ktstr::actors {

void GuestView::set(std::shared_ptr<const guest_kernel::GuestKernel> kernel) {
  std::lock_guard lock(mutex_);
  kernel_ = std::move(kernel);
}

void GuestView::set_unavailable(std::string why) {
  std::lock_guard lock(mutex_);
  unavailable_ = std::move(why);
}

msg::guest_state GuestView::read() const {
  std::shared_ptr<const guest_kernel::GuestKernel> kernel;
  msg::guest_state out;
  {
    std::lock_guard lock(mutex_);
    kernel = kernel_;
    out.unavailable = unavailable_;
  }
  if (!kernel) return out;
  out = read_guest_state(*kernel);
  out.bpf = kernel->read_bpf_maps();  // at a freeze only: the periodic samples leave it out
  return out;
}

msg::guest_state read_guest_state(const guest_kernel::GuestKernel& kernel) {
  msg::guest_state out;
  out.ok = true;
  out.scx = kernel.sample_scx();
  for (uint32_t cpu : kernel.located().cpus) out.cpus.push_back(kernel.sample_cpu(cpu));
  return out;
}

}  // namespace ktstr::actors
