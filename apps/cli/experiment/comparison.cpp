#include "apps/cli/experiment/comparison.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "apps/cli/verdict/payload_metrics.hpp"

namespace ktstr::cli {

namespace {

const nlohmann::json* workers_of(const nlohmann::json& r) {
  if (!r.is_object() || !r.contains("scenario") || !r["scenario"].is_object()) return nullptr;
  const auto& sc = r["scenario"];
  if (!sc.contains("workers") || !sc["workers"].is_array() || sc["workers"].empty()) return nullptr;
  return &sc["workers"];
}

/// The numbers at `key` of every worker (sum or max), nullopt when none has one.
std::optional<double> over_workers(const nlohmann::json& r, const char* key, bool sum) {
  const auto* workers = workers_of(r);
  if (!workers) return std::nullopt;
  std::optional<double> out;
  for (const auto& w : *workers) {
    if (!w.is_object() || !w.contains(key) || !w[key].is_number()) continue;
    const double v = w[key].get<double>();
    out = !out ? v : sum ? *out + v : std::max(*out, v);
  }
  return out;
}

double mean(const std::vector<double>& v) { return v.empty() ? 0 : std::accumulate(v.begin(), v.end(), 0.0) / double(v.size()); }

double stddev(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = mean(v);
  double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  return std::sqrt(ss / double(v.size() - 1));
}

/// Continued fraction of the incomplete beta (Lentz), for x < (a+1)/(a+b+2).
double beta_fraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300, kEps = 1e-14;
  double c = 1, d = 1 - (a + b) * x / (a + 1);
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 300; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1) < kEps) break;
  }
  return h;
}

/// The regularized incomplete beta I_x(a, b).
double incomplete_beta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x));
  if (x < (a + 1) / (a + b + 2)) return front * beta_fraction(a, b, x) / a;
  return 1 - front * beta_fraction(b, a, 1 - x) / b;
}

}  // namespace

const std::vector<MetricInfo>& metric_infos() {
  static const std::vector<MetricInfo> kInfos = {
      {"work_units", "units", true, "work done by every worker together (sum)"},
      {"max_gap_ms", "ms", false, "the longest time any worker waited to run"},
      {"off_cpu_spread", "points", false, "the largest off-CPU spread within a cgroup (fairness)"},
      {"wait_ms", "ms", false, "time workers spent runnable but waiting (schedstat, sum)"},
      {"migrations", "count", false, "CPU migrations of every worker (sum)"},
      {"boot_s", "s", false, "host time from start to the guest agent"},
      {"wake_p50_us", "us", false, "median wake-up latency (mean of the measuring workers' p50)"},
      {"wake_p99_us", "us", false, "tail wake-up latency (worst measuring worker's p99)"},
      {"rq_imbalance", "tasks", false, "run-queue imbalance seen by the monitor (mean over samples of max - min nr_running)"},
  };
  return kInfos;
}

const std::vector<std::string>& known_metrics() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> out;
    for (const auto& m : metric_infos()) out.push_back(m.name);
    return out;
  }();
  return kNames;
}

std::vector<std::string> payload_metric_names(const std::vector<const nlohmann::json*>& results) {
  std::set<std::string> names;
  for (const auto* r : results) {
    if (!r || !r->is_object() || !r->contains("scenario") || !(*r)["scenario"].is_object() ||
        !(*r)["scenario"].contains("payloads") || !(*r)["scenario"]["payloads"].is_array())
      continue;
    for (const auto& p : (*r)["scenario"]["payloads"])
      if (p.is_object() && p.contains("name") && p["name"].is_string() && p.contains("metrics") && p["metrics"].is_object())
        for (const auto& [key, value] : p["metrics"].items())
          if (value.is_number()) names.insert(std::string(kPayloadMetricPrefix) + p["name"].get<std::string>() + "." + key);
  }
  return {names.begin(), names.end()};
}

std::optional<double> metric_of(const nlohmann::json& r, const std::string& metric) {
  if (!r.is_object()) return std::nullopt;
  if (metric == "work_units") return over_workers(r, "work_units", true);
  if (metric == "max_gap_ms") return over_workers(r, "max_gap_ms", false);
  if (metric == "migrations") return over_workers(r, "migrations", true);
  if (metric == "wait_ms") {
    const auto* workers = workers_of(r);
    if (!workers) return std::nullopt;
    std::optional<double> sum;
    for (const auto& w : *workers)
      if (w.contains("schedstat") && w["schedstat"].is_object() && w["schedstat"].contains("wait_ns") &&
          w["schedstat"]["wait_ns"].is_number())
        sum = sum.value_or(0) + w["schedstat"]["wait_ns"].get<double>() / 1e6;
    return sum;
  }
  if (metric == "off_cpu_spread") {
    if (!r.contains("scenario") || !r["scenario"].is_object() || !r["scenario"].contains("cgroups")) return std::nullopt;
    std::optional<double> worst;
    for (const auto& c : r["scenario"]["cgroups"])
      if (c.is_object() && c.contains("off_cpu_pct") && c["off_cpu_pct"].is_object() &&
          c["off_cpu_pct"].contains("spread") && c["off_cpu_pct"]["spread"].is_number())
        worst = std::max(worst.value_or(0), c["off_cpu_pct"]["spread"].get<double>());
    return worst;
  }
  if (metric.starts_with(kPayloadMetricPrefix)) {
    // "payload.<payload name>.<metric>": the run's payload of that name, the metric its
    // tool's parser found (scenario.payloads[].metrics).
    const std::string rest = metric.substr(kPayloadMetricPrefix.size());
    if (!r.contains("scenario") || !r["scenario"].is_object() || !r["scenario"].contains("payloads") ||
        !r["scenario"]["payloads"].is_array())
      return std::nullopt;
    for (const auto& p : r["scenario"]["payloads"]) {
      if (!p.is_object() || !p.contains("name") || !p["name"].is_string() || !p.contains("metrics") || !p["metrics"].is_object())
        continue;
      const std::string name = p["name"].get<std::string>() + ".";
      if (!rest.starts_with(name)) continue;
      const std::string key = rest.substr(name.size());
      if (p["metrics"].contains(key) && p["metrics"][key].is_number()) return p["metrics"][key].get<double>();
    }
    return std::nullopt;
  }
  if (metric == "wake_p50_us" || metric == "wake_p99_us") {
    const auto* workers = workers_of(r);
    if (!workers) return std::nullopt;
    const bool p50 = metric == "wake_p50_us";
    double sum = 0, worst = 0;
    int n = 0;
    for (const auto& w : *workers) {
      if (!w.contains("wake_latency_us") || !w["wake_latency_us"].is_object()) continue;
      const auto& l = w["wake_latency_us"];
      const char* key = p50 ? "p50" : "p99";
      if (!l.contains(key) || !l[key].is_number()) continue;
      const double v = l[key].get<double>();
      sum += v;
      worst = n ? std::max(worst, v) : v;
      ++n;
    }
    if (!n) return std::nullopt;
    return p50 ? sum / n : worst;
  }
  if (metric == "rq_imbalance") {
    if (!r.contains("monitor") || !r["monitor"].is_object() || !r["monitor"].contains("samples") ||
        !r["monitor"]["samples"].is_array())
      return std::nullopt;
    double sum = 0;
    int n = 0;
    for (const auto& sample : r["monitor"]["samples"]) {
      if (!sample.is_object() || !sample.contains("cpus") || !sample["cpus"].is_array() || sample["cpus"].size() < 2) continue;
      std::optional<double> lo, hi;
      for (const auto& c : sample["cpus"])
        if (c.is_object() && c.contains("nr_running") && c["nr_running"].is_number()) {
          const double v = c["nr_running"].get<double>();
          lo = std::min(lo.value_or(v), v);
          hi = std::max(hi.value_or(v), v);
        }
      if (!lo) continue;
      sum += *hi - *lo;
      ++n;
    }
    if (!n) return std::nullopt;
    return sum / n;
  }
  if (metric == "boot_s") {
    if (r.contains("boot") && r["boot"].is_object() && r["boot"].contains("host_to_agent_s") &&
        r["boot"]["host_to_agent_s"].is_number())
      return r["boot"]["host_to_agent_s"].get<double>();
    return std::nullopt;
  }
  return std::nullopt;
}

double student_t_two_sided_p(double t, double df) {
  if (!(df > 0) || !std::isfinite(t)) return std::isfinite(t) ? 1 : 0;
  return incomplete_beta(df / 2, 0.5, df / (df + t * t));
}

std::optional<WelchResult> welch_test(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() < 2 || b.size() < 2) return std::nullopt;
  const double va = std::pow(stddev(a), 2) / double(a.size()), vb = std::pow(stddev(b), 2) / double(b.size());
  if (va + vb <= 0) return std::nullopt;
  WelchResult w;
  w.t = (mean(a) - mean(b)) / std::sqrt(va + vb);
  w.df = (va + vb) * (va + vb) / (va * va / double(a.size() - 1) + vb * vb / double(b.size() - 1));
  w.p = student_t_two_sided_p(w.t, w.df);
  return w;
}

std::vector<MetricComparison> compare_vms(const std::vector<ComparisonInput>& vms, const std::string& baseline,
                                          const std::vector<std::string>& metrics, double worse_pct) {
  std::vector<MetricComparison> out;
  const ComparisonInput* base = nullptr;
  for (const auto& vm : vms)
    if (vm.vm == baseline) base = &vm;
  if (!base) return out;
  std::vector<std::string> names = metrics;
  if (names.empty()) {
    names = known_metrics();
    for (const auto& m : payload_metric_names(base->results)) names.push_back(m);
  }
  for (const auto& metric : names) {
    const auto info = std::find_if(metric_infos().begin(), metric_infos().end(),
                                   [&](const MetricInfo& m) { return m.name == metric; });
    std::vector<double> base_values;
    for (const auto* r : base->results)
      if (auto v = metric_of(*r, metric)) base_values.push_back(*v);
    if (base_values.empty()) continue;
    for (const auto& vm : vms) {
      if (&vm == base) continue;
      MetricComparison c;
      c.metric = metric;
      c.vm = vm.vm;
      c.baseline_values = base_values;
      for (const auto* r : vm.results)
        if (auto v = metric_of(*r, metric)) c.values.push_back(*v);
      if (c.values.empty()) continue;
      c.baseline_mean = mean(base_values);
      c.mean = mean(c.values);
      c.baseline_stddev = stddev(base_values);
      c.stddev = stddev(c.values);
      if (c.baseline_mean != 0) c.ratio = c.mean / c.baseline_mean;
      if (base_values.size() >= 3 && c.values.size() >= 3) {
        c.welch = welch_test(c.values, base_values);
        c.significant = c.welch && c.welch->p < 0.05;
      }
      const bool higher_better = info != metric_infos().end()
                                     ? info->higher_is_better
                                     : metric.starts_with(kPayloadMetricPrefix) && payload_metric_higher_is_better(metric);
      const double limit = worse_pct / 100.0;
      if (c.ratio) {
        const double change = *c.ratio - 1;  // + : larger than the baseline
        const double bad = higher_better ? -change : change;
        c.worse = bad > limit;
        c.verdict = bad > limit ? "worse" : -bad > limit ? "better" : "same";
      } else {
        c.verdict = c.mean == 0 ? "same" : (higher_better ? "better" : "worse");
        c.worse = c.verdict == "worse";
      }
      // With repeats, a difference within the noise is not called worse.
      if (c.welch && !c.significant && c.verdict != "same") {
        c.verdict = "same (not significant)";
        c.worse = false;
      }
      out.push_back(std::move(c));
    }
  }
  return out;
}

nlohmann::json comparison_json(const MetricComparison& c) {
  nlohmann::json j = {{"metric", c.metric},
                      {"vm", c.vm},
                      {"baseline_mean", c.baseline_mean},
                      {"mean", c.mean},
                      {"baseline_values", c.baseline_values},
                      {"values", c.values},
                      {"baseline_stddev", c.baseline_stddev},
                      {"stddev", c.stddev},
                      {"ratio", c.ratio ? nlohmann::json(*c.ratio) : nlohmann::json(nullptr)},
                      {"verdict", c.verdict},
                      {"worse", c.worse}};
  j["welch"] = c.welch ? nlohmann::json{{"t", c.welch->t}, {"df", c.welch->df}, {"p", c.welch->p}} : nlohmann::json(nullptr);
  return j;
}

}  // namespace ktstr::cli
