#include "apps/cli/experiment/experiment_parser.hpp"

#include "apps/cli/remote/endpoint.hpp"

#include <filesystem>
#include <limits>
#include <map>
#include <set>

#include "apps/cli/base/read_file.hpp"
#include "apps/cli/experiment/comparison.hpp"
#include "apps/cli/scenario/toml_fields.hpp"
#include "apps/cli/vm/fault_option.hpp"
#include "apps/protocol/plan.hpp"
#include "kvm/topology.hpp"

namespace ktstr::cli {

namespace {

using namespace toml_fields;

constexpr size_t kMaxExperimentFileBytes = 256 * 1024;
// The keys a VM may set, in a [[vm]], in [defaults] and as a [[matrix]]'s scalars.
const std::vector<std::string_view> kVmKeys = {"name",    "kernel",  "topology", "memory",  "scheduler",      "args",
                                               "scenario", "timeout", "repeat",   "expect",  "expect_finding",
                                               "faults", "payload"};

std::vector<std::string_view> with(std::vector<std::string_view> keys, std::initializer_list<std::string_view> more) {
  keys.insert(keys.end(), more.begin(), more.end());
  return keys;
}


/// A fault refusal's line without its "--fault " (the file's field names it).
std::string without_flag(const std::string& line) {
  constexpr std::string_view kFlag = "--fault ";
  return line.starts_with(kFlag) ? line.substr(kFlag.size()) : line;
}

std::string resolved_path(const std::string& base_dir, const std::string& path) {
  if (path.empty() || base_dir.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (std::filesystem::path(base_dir) / path).lexically_normal().string();
}

bool is_path(const std::string& s) { return s.find('/') != std::string::npos || s.ends_with(".toml"); }

ExpectedOutcome expected(const Fields& f, const std::string& text) {
  static const std::map<std::string, ExpectedOutcome> kNames = {{"pass", ExpectedOutcome::pass},
                                                                {"fail", ExpectedOutcome::fail},
                                                                {"inconclusive", ExpectedOutcome::inconclusive},
                                                                {"any", ExpectedOutcome::any}};
  auto it = kNames.find(text);
  if (it == kNames.end()) f.fail("expect", "\"" + text + "\" is not one of: pass, fail, inconclusive, any");
  return it->second;
}

/// The VM keys of one table over `vm` (defaults first, then the table's own).
void apply_vm_keys(const Fields& f, ExperimentVm& vm, const std::string& base_dir) {
  if (auto v = f.string("kernel")) vm.kernel = is_path(*v) ? resolved_path(base_dir, *v) : *v;
  if (auto v = f.string("topology")) {
    if (!kvm::TopologySpec::parse(*v)) f.fail("topology", "\"" + *v + "\" is not N,L,C,T (e.g. 1,1,2,1)");
    vm.topology = *v;
  }
  if (auto v = f.integer("memory", 64, 1 << 20)) vm.memory_mib = static_cast<uint32_t>(*v);
  if (auto v = f.string("scheduler")) vm.scheduler = *v == "eevdf" || v->empty() ? std::string() : resolved_path(base_dir, *v);
  if (f.has("args")) vm.scheduler_args = f.strings("args");
  if (auto v = f.string("scenario")) vm.scenario = is_path(*v) ? resolved_path(base_dir, *v) : *v;
  if (auto v = f.integer("timeout", 1, 24 * 3600)) vm.timeout_s = static_cast<uint32_t>(*v);
  if (auto v = f.integer("repeat", 1, kMaxRepeat)) vm.repeat = static_cast<uint32_t>(*v);
  if (auto v = f.string("expect")) vm.expect = expected(f, *v);
  if (auto v = f.string("expect_finding")) vm.expect_finding = *v;
  if (f.has("faults")) {
    vm.faults = f.strings("faults");
    for (const auto& text : vm.faults)  // the grammar now; the VM's vCPUs when the VM is complete (check_faults)
      if (auto parsed = parse_fault(text); auto* r = std::get_if<Refusal>(&parsed)) f.fail("faults", without_flag(r->line));
  }
  if (f.has("payload")) {  // the program is found and checked by the run (exit 88)
    vm.payload = f.strings("payload");
    if (vm.payload.empty() || vm.payload[0].empty()) f.fail("payload", "a payload needs a program: [\"hackbench\", ...]");
    if (vm.payload[0].find('/') != std::string::npos) vm.payload[0] = resolved_path(base_dir, vm.payload[0]);
  }
}

/// The faults against the VM's topology: no such vCPU, overlapping stalls. The run checks
/// the times against its length and guest_write's symbols against its kernel (exit 87).
void check_faults(const Fields& f, const ExperimentVm& vm) {
  if (vm.faults.empty()) return;
  const auto spec = kvm::TopologySpec::parse(vm.topology);
  if (!spec) return;  // refused as the topology
  // The vCPUs the spec declares (a topology the run refuses is refused there, exit 67/68).
  const uint32_t vcpus = spec->llcs * spec->cores_per_llc * spec->threads_per_core;
  auto parsed = parse_faults(vm.faults, vcpus, std::numeric_limits<double>::infinity());
  if (auto* r = std::get_if<Refusal>(&parsed)) f.fail("faults", "VM " + vm.name + ": " + without_flag(r->line));
}

void check_name(const Fields& f, const std::string& name) {
  if (name.empty() || name.size() > 64 || !protocol::valid_cgroup_component(name))
    f.fail("name", "\"" + name + "\" must be 1-64 characters of [A-Za-z0-9_.-]");
}

/// A cell's name part from a value: a path's file name, "eevdf" for none, ',' -> '_'.
std::string cell_part(std::string value) {
  if (value.empty()) return "eevdf";
  if (auto slash = value.rfind('/'); slash != std::string::npos) value = value.substr(slash + 1);
  if (value.ends_with(".toml")) value.resize(value.size() - 5);
  for (char& c : value)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') c = '_';
  return value;
}

}  // namespace

std::string_view to_string(ExpectedOutcome e) {
  switch (e) {
    case ExpectedOutcome::pass: return "pass";
    case ExpectedOutcome::fail: return "fail";
    case ExpectedOutcome::inconclusive: return "inconclusive";
    case ExpectedOutcome::any: return "any";
  }
  return "?";
}

Experiment parse_experiment(std::string_view text, const std::string& file, const std::string& base_dir) {
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    throw ScenarioError(syntax_error_line(e, file));
  }
  Fields top(file, root, "", {"name", "description", "jobs", "workers", "retry", "defaults", "vm", "matrix", "compare"});
  Experiment x;
  x.file = file;
  x.name = top.string("name").value_or("");
  check_name(top, x.name);
  x.description = top.string("description").value_or("");
  if (auto j = top.integer("jobs", 0, kMaxJobs)) x.jobs = static_cast<uint32_t>(*j);
  // workers = ["host:port", ...], or a [workers] table: addresses, retry, cert, key, ca.
  auto read_addresses = [&](const Fields& f, std::string_view key) {
    x.workers = f.strings(key);
    for (const auto& w : x.workers) {
      try {
        parse_endpoint(w);
      } catch (const RemoteError& e) {
        f.fail(key, e.what());
      }
    }
  };
  if (const auto* n = top.find("workers"); n && n->is_table()) {
    Fields wf(file, *n->as_table(), "workers", {"addresses", "retry", "cert", "key", "ca"});
    read_addresses(wf, "addresses");
    if (auto r = wf.integer("retry", 0, kMaxRetry)) x.retry = static_cast<uint32_t>(*r);
    if (auto v = wf.string("cert")) x.worker_cert = resolved_path(base_dir, *v);
    if (auto v = wf.string("key")) x.worker_key = resolved_path(base_dir, *v);
    if (auto v = wf.string("ca")) x.worker_ca = resolved_path(base_dir, *v);
  } else if (n) {
    read_addresses(top, "workers");
  }
  if (auto r = top.integer("retry", 0, kMaxRetry)) x.retry = static_cast<uint32_t>(*r);

  ExperimentVm defaults;
  if (const auto* d = top.table("defaults")) {
    Fields df(file, *d, "defaults", with(kVmKeys, {}));
    if (df.has("name")) df.fail("name", "a default name would give every VM the same name");
    apply_vm_keys(df, defaults, base_dir);
  }
  std::set<std::string> names;
  auto add = [&](ExperimentVm vm, const Fields& f) {
    check_faults(f, vm);
    if (!names.insert(vm.name).second) f.fail("name", "\"" + vm.name + "\" is already a VM of this experiment");
    x.vms.push_back(std::move(vm));
  };
  if (const auto* vms = top.array("vm")) {
    for (size_t i = 0; i < vms->size(); ++i) {
      const auto path = indexed("vm", i);
      Fields f(file, top.table_at(*vms, i, path), path, with(kVmKeys, {}));
      ExperimentVm vm = defaults;
      vm.where = f.self();
      if (!f.has("name")) f.fail("name", "missing");
      vm.name = *f.string("name");
      check_name(f, vm.name);
      apply_vm_keys(f, vm, base_dir);
      add(std::move(vm), f);
    }
  }
  if (const auto* matrices = top.array("matrix")) {
    for (size_t i = 0; i < matrices->size(); ++i) {
      const auto path = indexed("matrix", i);
      Fields f(file, top.table_at(*matrices, i, path), path, with(kVmKeys, {"topologies", "schedulers", "scenarios", "kernels"}));
      ExperimentVm base = defaults;
      base.where = f.self();
      if (!f.has("name")) f.fail("name", "missing (the prefix of the cells' names)");
      base.name = *f.string("name");
      check_name(f, base.name);
      apply_vm_keys(f, base, base_dir);
      // Each axis: its list, or the one value the VM keys gave.
      auto axis = [&](std::string_view key, const std::string& single) {
        auto values = f.strings(key);
        if (f.has(key) && values.empty()) f.fail(key, "empty list");
        return values.empty() ? std::vector<std::string>{single} : values;
      };
      const auto topologies = axis("topologies", base.topology);
      for (const auto& t : topologies)
        if (!kvm::TopologySpec::parse(t)) f.fail("topologies", "\"" + t + "\" is not N,L,C,T (e.g. 1,1,2,1)");
      const auto schedulers = axis("schedulers", base.scheduler);
      const auto scenarios = axis("scenarios", base.scenario);
      const auto kernels = axis("kernels", base.kernel);
      for (const auto& k : kernels)
        for (const auto& t : topologies)
          for (const auto& s : schedulers)
            for (const auto& sc : scenarios) {
              ExperimentVm vm = base;
              vm.kernel = is_path(k) ? resolved_path(base_dir, k) : k;
              vm.topology = t;
              vm.scheduler = s == "eevdf" || s.empty() ? std::string() : resolved_path(base_dir, s);
              vm.scenario = is_path(sc) ? resolved_path(base_dir, sc) : sc;
              vm.name = base.name;
              if (kernels.size() > 1) vm.name += "-" + cell_part(k);
              if (topologies.size() > 1) vm.name += "-" + cell_part(t);
              if (schedulers.size() > 1) vm.name += "-" + cell_part(vm.scheduler);
              if (scenarios.size() > 1) vm.name += "-" + cell_part(sc);
              add(std::move(vm), f);
            }
    }
  }
  if (x.vms.empty()) top.self().fail("no VMs: add [[vm]] tables or a [[matrix]]");
  size_t runs = 0;
  for (const auto& vm : x.vms) runs += vm.repeat;
  if (runs > kMaxExperimentVms)
    top.self().fail(std::to_string(runs) + " VM runs after expansion and repeats, at most " +
                    std::to_string(kMaxExperimentVms));

  if (const auto* c = top.table("compare")) {
    Fields f(file, *c, "compare", {"baseline", "metrics", "worse_pct", "fail_on_worse"});
    ExperimentComparison cmp;
    cmp.where = f.self();
    if (!f.has("baseline")) f.fail("baseline", "missing (the name of the VM the others are compared with)");
    cmp.baseline = *f.string("baseline");
    if (!names.count(cmp.baseline)) f.fail("baseline", "\"" + cmp.baseline + "\" is not a VM of this experiment");
    cmp.metrics = f.strings("metrics");
    for (const auto& m : cmp.metrics)
      if (!contains(known_metrics(), m) && !m.starts_with(kPayloadMetricPrefix))
        f.fail("metrics", "unknown metric \"" + m + "\" (one of: " + one_of(known_metrics()) + ", or payload.NAME.METRIC)");
    if (auto w = f.number("worse_pct", 0, 1000)) cmp.worse_pct = *w;
    cmp.fail_on_worse = f.boolean("fail_on_worse").value_or(false);
    x.compare = std::move(cmp);
  }
  return x;
}

Experiment parse_experiment_file(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxExperimentFileBytes)
    throw ScenarioError(path + ": " + std::to_string(size) + " bytes; an experiment file is at most " +
                        std::to_string(kMaxExperimentFileBytes / 1024) + " KiB");
  auto text = read_file(path);
  if (!text) throw ScenarioError(path + ": cannot read the experiment file");
  return parse_experiment(*text, path, std::filesystem::path(path).parent_path().string());
}

}  // namespace ktstr::cli
