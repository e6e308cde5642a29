#pragma once
// Small system helpers for PID 1 of the outer guest. Every failure ends in die(): one
// clear line on the console (and in the scratch share's status file once it is mounted),
// then power-off, so a broken set-up never leaves the outer guest hanging.
#include <cstddef>
#include <string>
#include <string_view>

namespace ktstr::nested {

/// One line "ktstr-nested-init: <line>" on the outer console.
void say(std::string_view line);

/// Where die() also records the error (the scratch share), once it is mounted.
void set_status_path(std::string path);

/// Restarts a UART's transmitter (tcflow off, then on: the 8250 driver re-enables the
/// transmit interrupt, and the UART raises it again when its buffer is empty). Under
/// QEMU TCG that interrupt is now and then lost, and an 8250 port then never sends
/// again: the console (with the "alive" heartbeat) or the job's output went silent
/// while the nested host ran on. Called every second on every port in use.
void kick_uart(int fd);

/// Writes the status file (see apps/protocol/nested_job.hpp); false if it could not be written.
bool write_status(std::string_view content);

/// The nested host failed: status "error" (host exec: exit 79).
[[noreturn]] void die(const std::string& message);

/// The job cannot be started as given (e.g. its working directory is not there):
/// status "refused", which the host reports as the job's problem, not the host's.
[[noreturn]] void refuse(const std::string& message);

/// sync, then power off; if that fails, exiting PID 1 panics and panic=-1 with
/// QEMU's -no-reboot ends the guest anyway.
[[noreturn]] void power_off();

/// mkdir -p; errors are left for the following mount to report.
void make_dirs(const std::string& path);

/// mount(2) or die, naming what failed.
void mount_or_die(const char* source, const std::string& target, const char* type,
                  unsigned long flags, const char* data);

/// Loads every module file under dir in name order (files are named NN-name.ko[.xz|.zst]),
/// going on after a failure; returns the first failure, or "" when all loaded.
std::string load_modules(const std::string& dir);

/// Brings the loopback interface up (processes of a job talk over 127.0.0.1: a worker and
/// its experiment); a failure is said, not fatal.
void loopback_up();

/// Reads a whole file of at most max bytes; false on error or when it is larger.
bool read_bounded(const std::string& path, std::size_t max, std::string& out);

}  // namespace ktstr::nested
