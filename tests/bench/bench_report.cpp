#include "bench_report.hpp"

#include <algorithm>
#include <fstream>
#include <iomanip>
#include <sstream>

#include <nlohmann/json.hpp>

namespace ktstr::bench {

namespace {

// The goal: our VMM boots to the agent in at most half of QEMU microvm's time.
constexpr double kGoalRatio = 0.5;

std::string fixed(double v, int digits = 3) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

std::string signal_text(const Sample& s) {
  if (s.signal == "com1") return "COM1 (agent fell back to /dev/console: COM2 unusable)";
  return s.signal == "com2" ? "COM2" : "-";
}

std::optional<double> ratio(const std::vector<Sample>& samples, Vmm a, Vmm b) {
  auto ma = median_wall(samples, a);
  auto mb = median_wall(samples, b);
  if (!ma || !mb || *mb <= 0) return std::nullopt;
  return *ma / *mb;
}

bool has(const BenchContext& ctx, Vmm vmm) {
  return std::find(ctx.vmms.begin(), ctx.vmms.end(), vmm) != ctx.vmms.end();
}

}  // namespace

std::optional<double> median(std::vector<double> v) {
  if (v.empty()) return std::nullopt;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::optional<double> median_wall(const std::vector<Sample>& samples, Vmm vmm) {
  std::vector<double> v;
  for (const auto& s : samples)
    if (s.vmm == vmm && s.ok && s.run > 0) v.push_back(s.wall_s);
  return median(v);
}

std::optional<double> median_guest_uptime(const std::vector<Sample>& samples, Vmm vmm) {
  std::vector<double> v;
  for (const auto& s : samples)
    if (s.vmm == vmm && s.ok && s.run > 0 && s.guest_uptime_s) v.push_back(*s.guest_uptime_s);
  return median(v);
}

void print_header(std::ostream& out, const BenchContext& ctx) {
  out << "boot_bench: boot-to-agent = wall time from spawning the VMM process until the agent's\n"
      << "            boot_done line is in the COM2 output file (polled every 5 ms)\n"
      << "kernel:     " << ctx.kernel.string() << "\n"
      << "initramfs:  " << ctx.initramfs.string() << " (" << ctx.initramfs_source << ")\n"
      << "cmdline:    " << ctx.cmdline << "\n"
      << "qemu:       " << ctx.qemu_version << "\n"
      << "accel:      " << ctx.accel << ", 2 vCPUs, 512 MiB; " << ctx.runs << " run(s) per VMM, interleaved; timeout "
      << ctx.timeout_s << " s per boot\n"
      << "ours:       ktstr-actors run --host=kvm (includes its CLI start and initramfs build)\n"
      << "COM2:       ours: its own 16550; q35: second -serial; microvm: -device isa-serial,iobase=0x2f8,irq=3\n"
      << "            (microvm makes one UART only, however many -serial are given)\n\n"
      << std::left << std::setw(6) << "run" << std::setw(15) << "vmm" << std::setw(10) << "wall_s" << std::setw(16)
      << "guest_uptime_s" << "signal / result\n";
}

void print_sample(std::ostream& out, const Sample& s) {
  out << std::left << std::setw(6) << (s.run == 0 ? std::string("warm") : std::to_string(s.run)) << std::setw(15)
      << vmm_name(s.vmm) << std::setw(10) << (s.ok ? fixed(s.wall_s) : "FAIL") << std::setw(16)
      << (s.guest_uptime_s ? fixed(*s.guest_uptime_s) : "-") << (s.ok ? signal_text(s) : s.error);
  if (!s.note.empty()) out << " [" << s.note << "]";
  out << std::endl;
}

void print_summary(std::ostream& out, const BenchContext& ctx, const std::vector<Sample>& samples) {
  // The guest's own uptime at boot_done starts at the kernel's clock: wall minus it is
  // VMM start, firmware and kernel decompression, where the VMMs differ most.
  out << "\n" << std::left << std::setw(15) << "vmm" << std::setw(8) << "ok/n" << std::setw(12) << "median_s"
      << std::setw(22) << "median_guest_uptime_s" << "signal\n";
  for (Vmm vmm : ctx.vmms) {
    int ok = 0, n = 0;
    std::string signal = "-";
    for (const auto& s : samples) {
      if (s.vmm != vmm || s.run == 0) continue;
      ++n;
      if (!s.ok) continue;
      ++ok;
      signal = signal == "-" || signal == signal_text(s) ? signal_text(s) : "mixed COM1/COM2";
    }
    auto m = median_wall(samples, vmm);
    auto g = median_guest_uptime(samples, vmm);
    out << std::left << std::setw(15) << vmm_name(vmm) << std::setw(8)
        << (std::to_string(ok) + "/" + std::to_string(n)) << std::setw(12) << (m ? fixed(*m) : "n/a")
        << std::setw(22) << (g ? fixed(*g) : "n/a") << signal << "\n";
  }
  auto vs_microvm = ratio(samples, Vmm::ours, Vmm::microvm);
  auto vs_q35 = ratio(samples, Vmm::ours, Vmm::q35);
  out << "\nratio ours/microvm: " << (vs_microvm ? fixed(*vs_microvm, 2) + "x" : "n/a")
      << "    ratio ours/q35: " << (vs_q35 ? fixed(*vs_q35, 2) + "x" : "n/a") << "\n";
  if (!has(ctx, Vmm::ours) || !has(ctx, Vmm::microvm))
    out << "goal: ktstr-actors <= 0.5x QEMU microvm: not measured (both VMMs are needed)\n";
  else if (!vs_microvm)
    out << "goal: ktstr-actors <= 0.5x QEMU microvm: not determined (no successful boots of one of them)\n";
  else
    out << "goal: ktstr-actors <= 0.5x QEMU microvm: " << (*vs_microvm <= kGoalRatio ? "met" : "not met") << " ("
        << fixed(*vs_microvm, 2) << "x)\n";
  if (ctx.accel != "kvm") out << "note: accel " << ctx.accel << ": a check of the command lines, not a KVM figure\n";
}

void write_json(const std::filesystem::path& path, const BenchContext& ctx, const std::vector<Sample>& samples) {
  nlohmann::json j;
  j["qemu_version"] = ctx.qemu_version;
  j["kernel"] = ctx.kernel.string();
  j["initramfs"] = ctx.initramfs.string();
  j["cmdline"] = ctx.cmdline;
  j["accel"] = ctx.accel;
  j["runs"] = ctx.runs;
  j["timeout_s"] = ctx.timeout_s;
  j["samples"] = nlohmann::json::array();
  for (const auto& s : samples) {
    nlohmann::json e{{"vmm", vmm_name(s.vmm)}, {"run", s.run}, {"warmup", s.run == 0}, {"ok", s.ok}};
    e["wall_s"] = s.ok ? nlohmann::json(s.wall_s) : nlohmann::json(nullptr);
    e["guest_uptime_s"] = s.guest_uptime_s ? nlohmann::json(*s.guest_uptime_s) : nlohmann::json(nullptr);
    e["signal"] = s.ok ? nlohmann::json(s.signal) : nlohmann::json(nullptr);
    if (!s.error.empty()) e["error"] = s.error;
    if (!s.note.empty()) e["note"] = s.note;
    e["dir"] = s.dir.string();
    j["samples"].push_back(e);
  }
  nlohmann::json medians = nlohmann::json::object();
  nlohmann::json uptimes = nlohmann::json::object();
  for (Vmm vmm : ctx.vmms) {
    auto m = median_wall(samples, vmm);
    medians[std::string(vmm_name(vmm))] = m ? nlohmann::json(*m) : nlohmann::json(nullptr);
    auto g = median_guest_uptime(samples, vmm);
    uptimes[std::string(vmm_name(vmm))] = g ? nlohmann::json(*g) : nlohmann::json(nullptr);
  }
  j["median_wall_s"] = medians;
  j["median_guest_uptime_s"] = uptimes;
  auto r1 = ratio(samples, Vmm::ours, Vmm::microvm);
  auto r2 = ratio(samples, Vmm::ours, Vmm::q35);
  j["ratio_ours_microvm"] = r1 ? nlohmann::json(*r1) : nlohmann::json(nullptr);
  j["ratio_ours_q35"] = r2 ? nlohmann::json(*r2) : nlohmann::json(nullptr);
  j["goal_ratio"] = kGoalRatio;
  j["goal_met"] = r1 ? nlohmann::json(*r1 <= kGoalRatio) : nlohmann::json(nullptr);
  std::ofstream out(path);
  out << j.dump(2) << "\n";
}

}  // namespace ktstr::bench
