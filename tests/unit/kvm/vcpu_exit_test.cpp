// The dispatch of one KVM_RUN exit, on a plain buffer standing in for the mapped kvm_run
// page: no /dev/kvm needed.
#include <catch2/catch.hpp>

#include <linux/kvm.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "kvm/io_bus.hpp"
#include "kvm/kick.hpp"
#include "kvm/layout.hpp"
#include "kvm/machine_events.hpp"
#include "kvm/serial.hpp"
#include "kvm/vcpu_exit.hpp"

using namespace ktstr::kvm;

namespace {

constexpr size_t kPageSize = 4096;
constexpr uint32_t kDataOffset = 3072;  // after the kvm_run struct, inside the page
static_assert(sizeof(kvm_run) <= kDataOffset);

struct Exit {
  alignas(kvm_run) uint8_t page[kPageSize] = {};
  // SAFETY: page is zeroed, aligned for kvm_run and larger than it.
  kvm_run& run = *reinterpret_cast<kvm_run*>(page);
  std::string com1_out;
  Uart16550 com1{[](bool) {}, [this](std::string_view b) { com1_out += b; }};
  Uart16550 com2{[](bool) {}, [](std::string_view) {}};
  MachineEvents events;
  IoBus bus{com1, com2, events};
  VcpuKick kick;  // never attached: no signal can be sent

  RunResult dispatch(int err = 0) { return dispatch_exit(err, run, kPageSize, kick, bus, events); }

  void port_io(uint8_t direction, uint16_t port, uint8_t size, uint32_t count, std::vector<uint8_t> data = {}) {
    run.exit_reason = KVM_EXIT_IO;
    run.io.direction = direction;
    run.io.port = port;
    run.io.size = size;
    run.io.count = count;
    run.io.data_offset = kDataOffset;
    std::memcpy(page + kDataOffset, data.data(), data.size());
  }
};

}  // namespace

TEST_CASE("exit dispatch: port output reaches the device and the vCPU resumes") {
  Exit e;
  e.port_io(KVM_EXIT_IO_OUT, layout::kCom1, 1, 3, {'o', 'k', '\n'});
  auto r = e.dispatch();
  CHECK(r.outcome == RunOutcome::resume);
  e.com1.flush();
  CHECK(e.com1_out == "ok\n");
}

TEST_CASE("exit dispatch: a port read of an unclaimed port fills the run page with ones") {
  Exit e;
  e.port_io(KVM_EXIT_IO_IN, 0x1234, 2, 2);
  CHECK(e.dispatch().outcome == RunOutcome::resume);
  CHECK(std::vector<uint8_t>(e.page + kDataOffset, e.page + kDataOffset + 4) == std::vector<uint8_t>(4, 0xFF));
}

TEST_CASE("exit dispatch: the guest's i8042 reset and ACPI S5 end the run after the port write") {
  Exit reset;
  reset.port_io(KVM_EXIT_IO_OUT, layout::kI8042Command, 1, 1, {0xFE});
  auto r = reset.dispatch();
  CHECK(r.outcome == RunOutcome::guest_reset);
  CHECK(r.detail == "i8042 reset");

  Exit off;
  off.port_io(KVM_EXIT_IO_OUT, layout::kSleepControl, 1, 1, {static_cast<uint8_t>(layout::kS5SleepType << 2 | 1 << 5)});
  r = off.dispatch();
  CHECK(r.outcome == RunOutcome::guest_power_off);
  CHECK(r.detail == "ACPI S5 power-off");
}

TEST_CASE("exit dispatch: malformed port I/O fails instead of touching memory outside the page") {
  Exit bad_size;
  bad_size.port_io(KVM_EXIT_IO_OUT, layout::kCom1, 3, 1);
  auto r = bad_size.dispatch();
  CHECK(r.outcome == RunOutcome::failed);
  CHECK(r.detail == "malformed port I/O exit (size 3, count 1)");

  Exit past_end;
  past_end.port_io(KVM_EXIT_IO_OUT, layout::kCom1, 4, 1000);  // 4000 bytes from offset 3072
  CHECK(past_end.dispatch().outcome == RunOutcome::failed);

  Exit bad_offset;
  bad_offset.port_io(KVM_EXIT_IO_IN, layout::kCom1, 1, 1);
  bad_offset.run.io.data_offset = kPageSize + 1;
  CHECK(bad_offset.dispatch().outcome == RunOutcome::failed);
}

TEST_CASE("exit dispatch: MMIO reads see zeros, writes vanish, HLT resumes") {
  Exit e;
  e.run.exit_reason = KVM_EXIT_MMIO;
  e.run.mmio.is_write = 0;
  std::memset(e.run.mmio.data, 0xAB, sizeof e.run.mmio.data);
  CHECK(e.dispatch().outcome == RunOutcome::resume);
  CHECK(std::vector<uint8_t>(e.run.mmio.data, e.run.mmio.data + 8) == std::vector<uint8_t>(8, 0));

  e.run.mmio.is_write = 1;
  std::memset(e.run.mmio.data, 0xAB, sizeof e.run.mmio.data);
  CHECK(e.dispatch().outcome == RunOutcome::resume);
  CHECK(e.run.mmio.data[0] == 0xAB);

  e.run.exit_reason = KVM_EXIT_HLT;
  CHECK(e.dispatch().outcome == RunOutcome::resume);
}

TEST_CASE("exit dispatch: triple fault and system events end the run with their reason") {
  Exit e;
  e.run.exit_reason = KVM_EXIT_SHUTDOWN;
  auto r = e.dispatch();
  CHECK(r.outcome == RunOutcome::guest_shutdown);
  CHECK(r.detail == "triple fault");

  e.run.exit_reason = KVM_EXIT_SYSTEM_EVENT;
  e.run.system_event.type = KVM_SYSTEM_EVENT_RESET;
  CHECK(e.dispatch().outcome == RunOutcome::guest_reset);
  e.run.system_event.type = KVM_SYSTEM_EVENT_SHUTDOWN;
  r = e.dispatch();
  CHECK(r.outcome == RunOutcome::guest_power_off);
  CHECK(r.detail == "system event shutdown");
  e.run.system_event.type = KVM_SYSTEM_EVENT_CRASH;
  r = e.dispatch();
  CHECK(r.outcome == RunOutcome::failed);
  CHECK(r.detail == "system event " + std::to_string(KVM_SYSTEM_EVENT_CRASH));
}

TEST_CASE("exit dispatch: entry failures, internal errors and unknown exits fail with a reason") {
  Exit e;
  e.run.exit_reason = KVM_EXIT_FAIL_ENTRY;
  e.run.fail_entry.hardware_entry_failure_reason = 33;
  auto r = e.dispatch();
  CHECK(r.outcome == RunOutcome::failed);
  CHECK(r.detail == "VM entry failed (hardware reason 0x21)");  // 33, in hex as the 0x says

  e.run.exit_reason = KVM_EXIT_INTERNAL_ERROR;
  e.run.internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
  r = e.dispatch();
  CHECK(r.outcome == RunOutcome::failed);
  CHECK(r.detail == "KVM internal error, suberror 1 (emulation failure)");
  e.run.internal.ndata = 2;  // the words KVM gives with it are in the detail
  e.run.internal.data[0] = 0x20;
  e.run.internal.data[1] = 0xcc0f;
  CHECK(e.dispatch().detail == "KVM internal error, suberror 1 (emulation failure), data 0x20 0xcc0f");
  e.run.internal.ndata = 1000;  // never past the array
  CHECK(e.dispatch().detail.size() < 400);

  e.run.exit_reason = 9999;
  r = e.dispatch();
  CHECK(r.outcome == RunOutcome::failed);
  CHECK(r.detail == "unexpected exit reason 9999");
}

TEST_CASE("exit dispatch: KVM_RUN errors: a signal with no new kick resumes, others fail") {
  Exit e;
  e.run.exit_reason = KVM_EXIT_SHUTDOWN;  // ignored when KVM_RUN itself failed
  CHECK(e.dispatch(-EINTR).outcome == RunOutcome::resume);  // stale or foreign signal
  CHECK(e.dispatch(-EAGAIN).outcome == RunOutcome::resume);
  auto r = e.dispatch(-EFAULT);
  CHECK(r.outcome == RunOutcome::failed);
  CHECK(r.detail == std::string("KVM_RUN: ") + std::strerror(EFAULT));

  e.run.exit_reason = KVM_EXIT_INTR;
  CHECK(e.dispatch().outcome == RunOutcome::resume);  // no kick requested: nothing to read
}
