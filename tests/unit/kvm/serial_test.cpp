#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "kvm/serial.hpp"

using ktstr::kvm::Uart16550;

namespace {
struct Probe {
  std::vector<bool> irq_edges;
  std::vector<std::string> out;
  Uart16550 uart{[this](bool l) { irq_edges.push_back(l); }, [this](std::string_view b) { out.emplace_back(b); }};
};
constexpr uint8_t THR = 0, IER = 1, IIR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7;
}  // namespace

TEST_CASE("UART output leaves as whole lines and on flush") {
  Probe p;
  for (char c : std::string("hello\nwor")) p.uart.write(THR, static_cast<uint8_t>(c));
  REQUIRE(p.out.size() == 1);
  CHECK(p.out[0] == "hello\n");
  p.uart.flush();
  CHECK(p.out.back() == "wor");
}

TEST_CASE("UART reports an empty transmitter and the divisor latch round-trips") {
  Probe p;
  CHECK((p.uart.read(LSR) & 0x60) == 0x60);
  p.uart.write(LCR, 0x80);
  p.uart.write(0, 0x01);
  p.uart.write(1, 0x02);
  CHECK(p.uart.read(0) == 0x01);
  CHECK(p.uart.read(1) == 0x02);
  p.uart.write(LCR, 0x03);
  CHECK(p.uart.read(LCR) == 0x03);
  p.uart.write(SCR, 0xA5);
  CHECK(p.uart.read(SCR) == 0xA5);
  CHECK(p.out.empty());  // divisor writes are not output
}

TEST_CASE("enabling THRI raises a THRE interrupt that reading IIR acknowledges") {
  Probe p;
  CHECK(p.uart.read(IIR) == 0x01);
  p.uart.write(IER, 0x02);
  REQUIRE(p.irq_edges == std::vector<bool>{true});
  CHECK((p.uart.read(IIR) & 0x0F) == 0x02);
  CHECK(p.irq_edges == std::vector<bool>{true, false});
  CHECK((p.uart.read(IIR) & 0x0F) == 0x01);
  p.uart.write(THR, 'x');  // THR empties at once: a fresh edge
  CHECK(p.irq_edges.back() == true);
}

TEST_CASE("host input is read by the guest with an RX interrupt, and bounded") {
  Probe p;
  p.uart.write(IER, 0x01);
  REQUIRE(p.uart.enqueue_input("ok"));
  CHECK(p.irq_edges.back() == true);
  CHECK((p.uart.read(IIR) & 0x0F) == 0x04);
  CHECK((p.uart.read(LSR) & 0x01) == 0x01);
  CHECK(p.uart.read(THR) == 'o');
  CHECK(p.uart.read(THR) == 'k');
  CHECK((p.uart.read(LSR) & 0x01) == 0);
  CHECK(p.irq_edges.back() == false);
  CHECK_FALSE(p.uart.enqueue_input(std::string(Uart16550::kInputMax + 1, 'x')));
}

TEST_CASE("loopback mode feeds output back and mirrors modem lines, as the 8250 probe expects") {
  Probe p;
  p.uart.write(MCR, 0x1A);  // loop | RTS | OUT2
  CHECK((p.uart.read(MSR) & 0xF0) == 0x90);
  p.uart.write(THR, 'z');
  CHECK(p.out.empty());
  CHECK(p.uart.read(THR) == 'z');
}
