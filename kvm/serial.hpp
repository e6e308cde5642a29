#pragma once
// A 16550A UART, as much of it as Linux's 8250 driver uses: divisor latch, IER/IIR
// with THRE and RX-data interrupts, FIFO control, loopback (for the driver's probe),
// scratch. Output leaves as whole lines (or full buffers) through a sink; input is
// queued by the host and raised as RX interrupts.
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace ktstr::kvm {

class Uart16550 {
 public:
  using IrqLine = std::function<void(bool level)>;
  using Sink = std::function<void(std::string_view bytes)>;
  static constexpr size_t kLineMax = 4096;   ///< output flushed at '\n' or this size
  static constexpr size_t kInputMax = 1 << 16;

  Uart16550(IrqLine irq, Sink sink);

  /// Port I/O from a vCPU; offset is 0..7 from the UART base.
  void write(uint8_t offset, uint8_t value);
  uint8_t read(uint8_t offset);

  /// Host side: bytes for the guest to read. Returns false if the queue is full.
  bool enqueue_input(std::string_view bytes);
  /// Hands any partial output line to the sink (at VM end).
  void flush();

 private:
  void update_irq();   // requires mu_
  void emit(uint8_t byte);  // requires mu_

  std::mutex mu_;
  IrqLine irq_;
  Sink sink_;
  std::string line_;
  std::deque<uint8_t> rx_;
  uint8_t ier_ = 0, lcr_ = 0, mcr_ = 0, scr_ = 0, dll_ = 0x0C, dlm_ = 0, fcr_ = 0;
  bool thre_pending_ = false;  // THR-empty interrupt latched until IIR read or THR write
  bool irq_level_ = false;
};

}  // namespace ktstr::kvm
