#pragma once
// The kernel command line our VMM boots with. In a header so the boot benchmark can
// give QEMU exactly the same line.
namespace ktstr::cli {

// Kept short and fast: every console byte is a VM exit.
inline constexpr const char* kBaseCmdline =
    "console=ttyS0 quiet reboot=k panic=-1 pci=off no_timer_check i8042.noaux i8042.nomux i8042.nopnp "
    "i8042.dumbkbd rdinit=/init";

}  // namespace ktstr::cli
