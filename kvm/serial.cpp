#include "kvm/serial.hpp"

namespace ktstr::kvm {

namespace {
// Register offsets and bits (the 8250 family's, see include/uapi/linux/serial_reg.h).
constexpr uint8_t kRbrThr = 0, kIer = 1, kIirFcr = 2, kLcr = 3, kMcr = 4, kLsr = 5, kMsr = 6, kScr = 7;
constexpr uint8_t kIerRdi = 0x01, kIerThri = 0x02;
constexpr uint8_t kIirNoInt = 0x01, kIirThri = 0x02, kIirRdi = 0x04, kIirFifo = 0xC0;
constexpr uint8_t kLcrDlab = 0x80;
constexpr uint8_t kMcrDtr = 0x01, kMcrRts = 0x02, kMcrOut1 = 0x04, kMcrOut2 = 0x08, kMcrLoop = 0x10;
constexpr uint8_t kLsrDr = 0x01, kLsrThre = 0x20, kLsrTemt = 0x40;
constexpr uint8_t kMsrCts = 0x10, kMsrDsr = 0x20, kMsrRi = 0x40, kMsrDcd = 0x80;
constexpr uint8_t kFcrEnable = 0x01, kFcrClearRx = 0x02;
}  // namespace

Uart16550::Uart16550(IrqLine irq, Sink sink) : irq_(std::move(irq)), sink_(std::move(sink)) {}

void Uart16550::write(uint8_t offset, uint8_t value) {
  std::lock_guard lock(mu_);
  const bool dlab = lcr_ & kLcrDlab;
  switch (offset) {
    case kRbrThr:
      if (dlab) {
        dll_ = value;
        break;
      }
      if (mcr_ & kMcrLoop) {
        if (rx_.size() < kInputMax) rx_.push_back(value);
      } else {
        emit(value);
      }
      // We transmit instantly, so THR is empty again right away.
      thre_pending_ = true;
      break;
    case kIer:
      if (dlab) {
        dlm_ = value;
        break;
      }
      // Enabling THRI while THR is empty raises the interrupt, as on real parts.
      if ((value & kIerThri) && !(ier_ & kIerThri)) thre_pending_ = true;
      ier_ = value & 0x0F;
      break;
    case kIirFcr:
      fcr_ = value;
      if (value & kFcrClearRx) rx_.clear();
      break;
    case kLcr: lcr_ = value; break;
    case kMcr: mcr_ = value & 0x1F; break;
    case kScr: scr_ = value; break;
    default: break;  // LSR/MSR are read-only
  }
  update_irq();
}

uint8_t Uart16550::read(uint8_t offset) {
  std::lock_guard lock(mu_);
  const bool dlab = lcr_ & kLcrDlab;
  uint8_t value = 0;
  switch (offset) {
    case kRbrThr:
      if (dlab) {
        value = dll_;
      } else if (!rx_.empty()) {
        value = rx_.front();
        rx_.pop_front();
      }
      break;
    case kIer: value = dlab ? dlm_ : ier_; break;
    case kIirFcr: {
      const uint8_t fifo = (fcr_ & kFcrEnable) ? kIirFifo : 0;
      if ((ier_ & kIerRdi) && !rx_.empty()) {
        value = kIirRdi | fifo;
      } else if ((ier_ & kIerThri) && thre_pending_) {
        value = kIirThri | fifo;
        thre_pending_ = false;  // reading IIR acknowledges THRE
      } else {
        value = kIirNoInt | fifo;
      }
      break;
    }
    case kLcr: value = lcr_; break;
    case kMcr: value = mcr_; break;
    case kLsr: value = kLsrThre | kLsrTemt | (rx_.empty() ? 0 : kLsrDr); break;
    case kMsr:
      if (mcr_ & kMcrLoop) {
        // Loopback wires the modem outputs back to the inputs; the driver's probe checks this.
        value = ((mcr_ & kMcrRts) ? kMsrCts : 0) | ((mcr_ & kMcrDtr) ? kMsrDsr : 0) |
                ((mcr_ & kMcrOut1) ? kMsrRi : 0) | ((mcr_ & kMcrOut2) ? kMsrDcd : 0);
      } else {
        value = kMsrDcd | kMsrDsr | kMsrCts;
      }
      break;
    case kScr: value = scr_; break;
    default: break;
  }
  update_irq();
  return value;
}

bool Uart16550::enqueue_input(std::string_view bytes) {
  std::lock_guard lock(mu_);
  if (rx_.size() + bytes.size() > kInputMax) return false;
  rx_.insert(rx_.end(), bytes.begin(), bytes.end());
  update_irq();
  return true;
}

void Uart16550::flush() {
  std::lock_guard lock(mu_);
  if (!line_.empty()) sink_(line_);
  line_.clear();
}

void Uart16550::emit(uint8_t byte) {
  line_.push_back(static_cast<char>(byte));
  if (byte == '\n' || line_.size() >= kLineMax) {
    sink_(line_);
    line_.clear();
  }
}

void Uart16550::update_irq() {
  const bool level = ((ier_ & kIerRdi) && !rx_.empty()) || ((ier_ & kIerThri) && thre_pending_);
  // ISA IRQs are edge-triggered: only transitions matter, and the 8250 driver relies
  // on a fresh edge each time a new interrupt becomes pending.
  if (level != irq_level_) {
    irq_level_ = level;
    irq_(level);
  }
}

}  // namespace ktstr::kvm
