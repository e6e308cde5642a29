#pragma once
// The kernel command line our VMM boots with. In a header so the boot benchmark can
// give QEMU exactly the same line.
namespace ktstr::cli {

// Kept short and fast: every console byte is a VM exit. The i8042 driver is not
// started: our i8042 exists only for reboot=k (which writes port 0x64 itself), and the
// driver's probe of a controller that answers nothing costs seconds of polling with
// interrupts off (under the emulated nested host it even starves the outer CPU).
// tsc=reliable: the guest keeps time with kvmclock; the TSC sync check at CPU bring-up
// is another all-interrupts-off spin between vCPUs, pointless in a VM.
inline constexpr const char* kBaseCmdline =
    "console=ttyS0 quiet reboot=k panic=-1 pci=off no_timer_check tsc=reliable initcall_blacklist=i8042_init "
    "rdinit=/init";

}  // namespace ktstr::cli
