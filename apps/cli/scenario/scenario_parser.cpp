#include "apps/cli/scenario/scenario_parser.hpp"

#include "apps/cli/base/read_file.hpp"
#include "apps/cli/base/watch_spec.hpp"
#include "apps/cli/scenario/toml_fields.hpp"

#include "apps/protocol/plan.hpp"

#include <algorithm>
#include <filesystem>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "kvm/topology.hpp"

namespace ktstr::cli {

namespace {

using namespace toml_fields;


std::string parent_of(const std::string& name) {
  auto slash = name.rfind('/');
  return slash == std::string::npos ? std::string() : name.substr(0, slash);
}

std::vector<uint32_t> index_list(const Fields& f, std::string_view key, const toml::node& n) {
  std::vector<uint32_t> ids;
  auto add = [&](const toml::node& item) {
    if (!item.is_integer()) f.fail(key, "expected an integer, got " + std::string(type_name(item)));
    auto v = item.as_integer()->get();
    if (v < 0 || v > 4095) f.fail(key, std::to_string(v) + " is out of range (0..4095)");
    ids.push_back(static_cast<uint32_t>(v));
  };
  if (n.is_array()) {
    for (const auto& item : *n.as_array()) add(item);
    if (ids.empty()) f.fail(key, "empty list");
  } else {
    add(n);
  }
  std::sort(ids.begin(), ids.end());
  if (std::adjacent_find(ids.begin(), ids.end()) != ids.end()) f.fail(key, "duplicate index");
  return ids;
}

CpusetSpec parse_cpuset(const Fields& parent, std::string_view key) {
  const toml::node& node = parent.required(key);
  if (!node.is_table())
    parent.fail(key, "expected a cpuset table like { cpus = \"0-1\" }, { fraction = [0.0, 0.5] }, { llc = 0 } "
                     "or { node = 0 }, got " + std::string(type_name(node)));
  Fields f(parent.file(), *node.as_table(), parent.field(key),
           {"cpus", "fraction", "llc", "llcs", "node", "nodes"});
  if (node.as_table()->size() != 1)
    f.self().fail("a cpuset needs exactly one of cpus, fraction, llc, llcs, node, nodes");
  CpusetSpec spec;
  spec.where = parent.at(key);
  if (auto cpus = f.string("cpus")) {
    auto list = kvm::parse_cpu_list(*cpus);
    if (!list || list->empty()) f.fail("cpus", "\"" + *cpus + "\" is not a CPU list like \"0-3,6\"");
    spec.kind = CpusetSpec::Kind::cpus;
    spec.ids = *list;
  } else if (auto* fraction = f.array("fraction")) {
    if (fraction->size() != 2) f.fail("fraction", "expected [start, end], two numbers from 0.0 to 1.0");
    spec.kind = CpusetSpec::Kind::fraction;
    spec.from = f.number_of((*fraction)[0], f.field("fraction"), 0, 1);
    spec.to = f.number_of((*fraction)[1], f.field("fraction"), 0, 1);
    if (spec.from >= spec.to) f.fail("fraction", "start must be below end");
  } else {
    bool llc = f.has("llc") || f.has("llcs");
    std::string_view which = f.has("llc") ? "llc" : f.has("llcs") ? "llcs" : f.has("node") ? "node" : "nodes";
    spec.kind = llc ? CpusetSpec::Kind::llcs : CpusetSpec::Kind::nodes;
    const auto& value = *f.find(which);
    if ((which == "llc" || which == "node") && value.is_array())
      f.fail(which, "expected one index (use " + std::string(which) + "s = [...] for a list)");
    spec.ids = index_list(f, which, value);
  }
  return spec;
}

WorkerGroup parse_worker_group(const Fields& owner, const toml::table& table, const std::string& path) {
  Fields f(owner.file(), table, path,
           {"type", "count", "policy", "priority", "nice", "affinity", "work_us", "sleep_us", "burst_ms", "idle_ms",
            "cache_kib"});
  WorkerGroup g;
  g.where = f.self();
  auto type = f.string("type");
  if (!type) f.fail("type", "missing (one of: " + one_of(kWorkerTypes) + ")");
  if (!contains(kWorkerTypes, *type)) f.fail("type", "unknown worker type \"" + *type + "\" (one of: " + one_of(kWorkerTypes) + ")");
  g.type = *type;
  g.count = static_cast<uint32_t>(f.integer("count", 1, kMaxGroupCount).value_or(1));
  if (is_pingpong(g.type) && g.count % 2 != 0)
    f.fail("count", std::to_string(g.count) + " is odd: " + g.type + " workers come in pairs (2k, 2k+1)");
  if (auto policy = f.string("policy")) {
    if (!contains(kPolicies, *policy)) f.fail("policy", "unknown policy \"" + *policy + "\" (one of: " + one_of(kPolicies) + ")");
    g.policy = *policy;
  } else if (g.type == "rt_hog") {
    g.policy = "fifo";
  }
  if (g.type == "rt_hog" && !is_realtime(g.policy)) f.fail("policy", "rt_hog needs policy fifo or rr");
  if (auto priority = f.integer("priority", protocol::kRtPriority.min, protocol::kRtPriority.max)) {
    if (!is_realtime(g.policy)) f.fail("priority", "only for policy fifo or rr (policy is " + g.policy + ")");
    g.priority = static_cast<uint32_t>(*priority);
  } else if (is_realtime(g.policy)) {
    g.priority = 1;
  }
  if (auto nice = f.integer("nice", protocol::kNice.min, protocol::kNice.max)) {
    if (g.policy != "normal" && g.policy != "batch") f.fail("nice", "only for policy normal or batch (policy is " + g.policy + ")");
    g.nice = static_cast<int32_t>(*nice);
  }
  if (f.has("affinity")) g.affinity = parse_cpuset(f, "affinity");
  for (const auto& [name, range] : protocol::kWorkerParams) {  // the agent checks the plan against the same table
    auto v = f.integer(name, range.min, range.max);
    if (!v) continue;
    auto used = params_of(g.type);
    if (!contains(used, name))
      f.fail(name, "not used by worker type " + g.type + (used.empty() ? " (it takes no params)" : " (it takes: " + one_of(used) + ")"));
    g.params.push_back({std::string(name), static_cast<uint64_t>(*v)});
  }
  return g;
}

std::vector<WorkerGroup> parse_workers(const Fields& owner, std::string_view key) {
  std::vector<WorkerGroup> groups;
  auto* array = owner.array(key);
  if (!array) return groups;
  for (size_t i = 0; i < array->size(); ++i) {
    auto path = indexed(owner.field(key), i);
    groups.push_back(parse_worker_group(owner, owner.table_at(*array, i, path), path));
  }
  return groups;
}

uint64_t count_workers(const std::vector<WorkerGroup>& groups) {
  uint64_t n = 0;
  for (const auto& g : groups) n += g.count;
  return n;
}

/// The cgroups alive while the steps run, to check the steps' references in order.
class CgroupNames {
 public:
  void check_new(const Fields& f, std::string_view key, const std::string& name) const {
    if (!protocol::valid_cgroup_path(name))
      f.fail(key, "\"" + name + "\" is not a cgroup name (components of [A-Za-z0-9_.-], separated by /)");
    if (name.size() > protocol::kMaxNameBytes)
      f.fail(key, "cgroup name longer than " + std::to_string(protocol::kMaxNameBytes) + " bytes");
    if (alive_.count(name)) f.fail(key, "cgroup \"" + name + "\" already exists");
    auto parent = parent_of(name);
    if (!parent.empty() && !alive_.count(parent))
      f.fail(key, "parent cgroup \"" + parent + "\" is not declared before \"" + name + "\"");
    if (!parent.empty() && per_llc_.count(parent))
      f.fail(key, "parent cgroup \"" + parent + "\" is per_llc and cannot have children");
  }
  void add(const std::string& name, bool per_llc) {
    alive_.insert(name);
    if (per_llc) per_llc_.insert(name);
    ++created_;
  }
  void check_alive(const Fields& f, std::string_view key, const std::string& name) const {
    if (!alive_.count(name)) f.fail(key, "unknown cgroup \"" + name + "\" (not declared, or removed before this step)");
    if (per_llc_.count(name)) f.fail(key, "cgroup \"" + name + "\" is per_llc; steps cannot address it");
  }
  void remove(const Fields& f, std::string_view key, const std::string& name) {
    check_alive(f, key, name);
    for (const auto& other : alive_)
      if (parent_of(other) == name) f.fail(key, "cgroup \"" + name + "\" still has child \"" + other + "\"");
    alive_.erase(name);
  }
  uint32_t created() const { return created_; }

 private:
  std::set<std::string> alive_, per_llc_;
  uint32_t created_ = 0;
};

std::string required_name(const Fields& f, std::string_view key) {
  auto v = f.string(key);
  if (!v) f.fail(key, "missing");
  return *v;
}

StepOp parse_op(const Fields& step, const toml::table& table, const std::string& path, CgroupNames& names) {
  using Kind = StepOp::Kind;
  auto* op_node = table.get("op");
  if (!op_node || !op_node->is_string())
    SourceRef{step.file(), line_of(table), path + ".op"}.fail(
        op_node ? "expected a string, got " + std::string(type_name(*op_node)) : "missing");
  static const std::map<std::string_view, std::pair<Kind, std::vector<std::string_view>>> kOps = {
      {"add_cgroup", {Kind::add_cgroup, {"op", "cgroup", "cpuset", "workers"}}},
      {"remove_cgroup", {Kind::remove_cgroup, {"op", "cgroup"}}},
      {"set_cpuset", {Kind::set_cpuset, {"op", "cgroup", "cpuset"}}},
      {"clear_cpuset", {Kind::clear_cpuset, {"op", "cgroup"}}},
      {"spawn", {Kind::spawn, {"op", "cgroup", "workers"}}},
      {"stop", {Kind::stop, {"op", "cgroup", "type"}}},
      {"move_tasks", {Kind::move_tasks, {"op", "from", "to"}}},
      {"set_affinity", {Kind::set_affinity, {"op", "cgroup", "cpuset"}}},
      {"watch", {Kind::watch, {"op", "word", "freeze", "when"}}},
      {"scheduler_kill", {Kind::scheduler_kill, {"op", "signal"}}},
      {"cpu_offline", {Kind::cpu_offline, {"op", "cpu"}}},
      {"cpu_online", {Kind::cpu_online, {"op", "cpu"}}},
      {"cgroup_freeze", {Kind::cgroup_freeze, {"op", "cgroup", "seconds"}}},
  };
  std::string op_name = op_node->as_string()->get();
  auto it = kOps.find(op_name);
  if (it == kOps.end()) {
    std::vector<std::string_view> known;
    for (const auto& [name, _] : kOps) known.push_back(name);
    SourceRef{step.file(), line_of(*op_node), path + ".op"}.fail("unknown op \"" + op_name + "\" (one of: " + one_of(known) + ")");
  }
  Fields f(step.file(), table, path, it->second.second);
  StepOp op;
  op.kind = it->second.first;
  op.where = f.self();
  if (op.kind == Kind::watch) {
    op.word = required_name(f, "word");
    auto spec = parse_watch_spec(op.word);
    if (auto* why = std::get_if<std::string>(&spec)) f.fail("word", "\"" + op.word + "\": " + *why);
    if (std::get<WatchSpec>(spec).freeze) f.fail("word", "write freeze = true, not \",freeze\"");
    op.freeze = f.boolean("freeze").value_or(false);
    if (auto when = f.string("when")) {
      op.when = guest_kernel::parse_word_condition(*when);
      if (!op.when)
        f.fail("when", "\"" + *when + "\" is not a condition like \">= 100\" (== != < <= > >=, then a number)");
    }
    return op;
  }
  if (op.kind == Kind::scheduler_kill) {
    op.signal = static_cast<int>(f.integer("signal", 1, 64).value_or(9));
    return op;
  }
  if (op.kind == Kind::cpu_offline || op.kind == Kind::cpu_online) {  // checked against the topology at plan time
    if (!f.has("cpu")) f.fail("cpu", "missing");
    op.cpu = static_cast<uint32_t>(*f.integer("cpu", 0, 4095));
    return op;
  }
  if (op.kind == Kind::move_tasks) {
    op.cgroup = required_name(f, "from");
    op.to = required_name(f, "to");
    names.check_alive(f, "from", op.cgroup);
    names.check_alive(f, "to", op.to);
    if (op.cgroup == op.to) f.fail("to", "same cgroup as from");
    return op;
  }
  op.cgroup = required_name(f, "cgroup");
  switch (op.kind) {
    case Kind::add_cgroup:
      names.check_new(f, "cgroup", op.cgroup);
      if (f.has("cpuset")) op.cpuset = parse_cpuset(f, "cpuset");
      op.workers = parse_workers(f, "workers");
      names.add(op.cgroup, false);
      break;
    case Kind::remove_cgroup: names.remove(f, "cgroup", op.cgroup); break;
    case Kind::set_cpuset:
    case Kind::set_affinity:
      names.check_alive(f, "cgroup", op.cgroup);
      op.cpuset = parse_cpuset(f, "cpuset");
      break;
    case Kind::clear_cpuset: names.check_alive(f, "cgroup", op.cgroup); break;
    case Kind::spawn:
      names.check_alive(f, "cgroup", op.cgroup);
      op.workers = parse_workers(f, "workers");
      if (op.workers.empty()) f.fail("workers", "spawn needs at least one worker group");
      break;
    case Kind::stop:
      names.check_alive(f, "cgroup", op.cgroup);
      if (auto type = f.string("type")) {
        if (!contains(kWorkerTypes, *type)) f.fail("type", "unknown worker type \"" + *type + "\"");
        op.worker_type = *type;
      }
      break;
    case Kind::cgroup_freeze: {
      names.check_alive(f, "cgroup", op.cgroup);
      if (!f.has("seconds")) f.fail("seconds", "missing: how long the cgroup stays frozen");
      op.for_ms = static_cast<uint64_t>(std::llround(*f.number("seconds", 0.001, 3600) * 1000));
      break;
    }
    case Kind::move_tasks:
    case Kind::watch:
    case Kind::scheduler_kill:
    case Kind::cpu_offline:
    case Kind::cpu_online: break;  // handled above
  }
  return op;
}


}  // namespace

std::optional<uint64_t> parse_duration_ms(std::string_view text) {
  size_t unit = 0;
  while (unit < text.size() && (std::isdigit(static_cast<unsigned char>(text[unit])) || text[unit] == '.')) ++unit;
  double value = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + unit, value);
  if (unit == 0 || ec != std::errc() || p != text.data() + unit) return std::nullopt;
  auto suffix = text.substr(unit);
  double ms = suffix == "ms" ? value : suffix == "s" ? value * 1000 : suffix == "m" ? value * 60000 : -1;
  if (ms < 0) return std::nullopt;
  if (ms >= 1e18) return UINT64_MAX;  // far out of range, and no overflow on the way
  return static_cast<uint64_t>(std::llround(ms));
}

Scenario parse_scenario(std::string_view text, const std::string& file) {
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    throw ScenarioError(syntax_error_line(e, file));
  }
  Fields top(file, root, "",
             {"name", "description", "duration", "duration_s", "expect", "reserve_cpus", "rt_throttle", "assert",
              "cgroup", "step", "payload"});
  Scenario s;
  s.file = file;
  s.where = {file, 1, ""};

  s.name = required_name(top, "name");
  if (!protocol::valid_cgroup_component(s.name)) top.fail("name", "\"" + s.name + "\" must be made of [A-Za-z0-9_.-]");
  if (s.name.size() > protocol::kMaxNameBytes)
    top.fail("name", "longer than " + std::to_string(protocol::kMaxNameBytes) + " bytes");
  s.description = top.string("description").value_or("");

  if (top.has("duration") && top.has("duration_s")) top.fail("duration_s", "give duration or duration_s, not both");
  std::string written;  // the duration as the file gives it, for the range message
  if (auto d = top.string("duration")) {
    written = "\"" + *d + "\"";
    auto ms = parse_duration_ms(*d);
    if (!ms) top.fail("duration", "\"" + *d + "\" is not a duration like \"10s\", \"500ms\" or \"2m\"");
    s.duration_ms = *ms;
  } else if (auto seconds = top.number("duration_s", 0, 1e9)) {
    written = number_text(*seconds) + " s";
    s.duration_ms = static_cast<uint64_t>(std::llround(*seconds * 1000));
  } else {
    top.fail("duration", "missing (duration = \"10s\" or duration_s = 10)");
  }
  std::string_view duration_key = top.has("duration") ? "duration" : "duration_s";
  if (s.duration_ms == 0 || s.duration_ms > kMaxDurationMs)
    top.fail(duration_key, written + " is out of range (more than 0, at most " +
                                  std::to_string(kMaxDurationMs / 1000) + " s)");

  if (auto expect = top.string("expect")) {
    if (*expect == "pass") s.expect = ExpectedVerdict::pass;
    else if (*expect == "fail") s.expect = ExpectedVerdict::fail;
    else if (*expect == "inconclusive") s.expect = ExpectedVerdict::inconclusive;
    else top.fail("expect", "\"" + *expect + "\" is not one of: pass, fail, inconclusive");
  }
  s.reserve_cpus = static_cast<uint32_t>(top.integer("reserve_cpus", 0, 4095).value_or(0));
  s.reserve_cpus_where = top.at("reserve_cpus");
  s.rt_throttle = top.boolean("rt_throttle").value_or(true);

  if (auto* assert_table = top.table("assert")) {
    Fields a(file, *assert_table, "assert",
             {"max_gap_ms", "fairness_spread_pct", "throughput_spread_pct", "starvation", "isolation",
              "predicted_stall_pct", "rq_clock_stuck_ms", "imbalance_ms"});
    auto& t = s.thresholds;
    auto number = [&](const ThresholdRange& r) { return a.number(r.name, r.min, r.max); };
    t.max_gap_ms = number(kMaxGapMsRange).value_or(t.max_gap_ms);
    t.fairness_spread_pct = number(kFairnessSpreadRange).value_or(t.fairness_spread_pct);
    if (auto v = number(kThroughputSpreadRange)) t.throughput_spread_pct = *v;
    t.predicted_stall_pct = number(kPredictedStallRange).value_or(t.predicted_stall_pct);
    t.rq_clock_stuck_ms = number(kRqClockStuckRange).value_or(t.rq_clock_stuck_ms);
    if (auto v = number(kImbalanceRange)) t.imbalance_ms = *v;
    t.starvation = a.boolean("starvation").value_or(t.starvation);
    t.isolation = a.boolean("isolation").value_or(t.isolation);
  }

  CgroupNames names;
  uint64_t workers = 0;
  if (auto* cgroups = top.array("cgroup")) {
    for (size_t i = 0; i < cgroups->size(); ++i) {
      auto path = indexed("cgroup", i);
      Fields c(file, top.table_at(*cgroups, i, path), path, {"name", "cpuset", "workers", "per_llc"});
      CgroupDecl decl;
      decl.where = c.self();
      decl.name = required_name(c, "name");
      names.check_new(c, "name", decl.name);
      decl.per_llc = c.boolean("per_llc").value_or(false);
      if (decl.per_llc && c.has("cpuset")) c.fail("cpuset", "a per_llc cgroup gets { llc = i } each; drop cpuset");
      if (c.has("cpuset")) decl.cpuset = parse_cpuset(c, "cpuset");
      decl.workers = parse_workers(c, "workers");
      workers += count_workers(decl.workers);
      names.add(decl.name, decl.per_llc);
      s.cgroups.push_back(std::move(decl));
    }
  }

  if (auto* payloads = top.array("payload")) {
    if (payloads->size() > protocol::kMaxPayloads)
      top.fail("payload", std::to_string(payloads->size()) + " payloads, at most " + std::to_string(protocol::kMaxPayloads));
    const std::string base_dir = std::filesystem::path(file).parent_path().string();
    for (size_t i = 0; i < payloads->size(); ++i) {
      auto path = indexed("payload", i);
      Fields p(file, top.table_at(*payloads, i, path), path, {"name", "cmd", "cgroup", "start_s"});
      PayloadDecl decl;
      decl.where = p.self();
      decl.base_dir = base_dir;
      decl.command = p.strings("cmd");
      if (decl.command.empty() || decl.command[0].empty()) p.fail("cmd", "a payload needs a program: cmd = [\"hackbench\", ...]");
      if (decl.command.size() - 1 > protocol::kMaxPayloadArgs)
        p.fail("cmd", std::to_string(decl.command.size() - 1) + " arguments, at most " + std::to_string(protocol::kMaxPayloadArgs));
      for (const auto& a : decl.command)
        if (a.size() > protocol::kMaxPayloadArgBytes || a.find('\0') != std::string::npos)
          p.fail("cmd", "an argument longer than " + std::to_string(protocol::kMaxPayloadArgBytes) + " bytes or with a NUL");
      if (auto name = p.string("name")) {
        if (!protocol::valid_cgroup_component(*name) || name->size() > protocol::kMaxNameBytes)
          p.fail("name", "\"" + *name + "\" must be made of [A-Za-z0-9_.-], at most " + std::to_string(protocol::kMaxNameBytes) + " bytes");
        decl.name = *name;
      }
      if (auto cgroup = p.string("cgroup")) {
        names.check_alive(p, "cgroup", *cgroup);  // one of the [[cgroup]]s (the payloads are read before the steps)
        decl.cgroup = *cgroup;
      }
      if (auto start = p.number("start_s", 0, 3600)) {
        decl.start_ms = static_cast<uint64_t>(std::llround(*start * 1000));
        if (decl.start_ms >= s.duration_ms) p.fail("start_s", "not before the end of the scenario");
      }
      s.payloads.push_back(std::move(decl));
    }
  }
  uint64_t at_ms = 0;
  size_t watches = 0;
  if (auto* steps = top.array("step")) {
    if (steps->size() > kMaxSteps) top.fail("step", std::to_string(steps->size()) + " steps, at most " + std::to_string(kMaxSteps));
    for (size_t i = 0; i < steps->size(); ++i) {
      auto path = indexed("step", i);
      Fields st(file, top.table_at(*steps, i, path), path, {"ops", "hold", "hold_s"});
      Step step;
      step.where = st.self();
      step.at_ms = at_ms;
      if (at_ms >= s.duration_ms)
        st.self().fail("starts at " + std::to_string(at_ms) + " ms, not before the end of the scenario (" +
                       std::to_string(s.duration_ms) + " ms)");
      if (st.has("hold") && st.has("hold_s")) st.fail("hold_s", "give hold or hold_s, not both");
      if (auto hold = st.number("hold", 0, 1))
        step.hold_ms = static_cast<uint64_t>(std::llround(*hold * static_cast<double>(s.duration_ms)));
      else if (auto hold_s = st.number("hold_s", 0, 3600))
        step.hold_ms = static_cast<uint64_t>(std::llround(*hold_s * 1000));
      auto* ops = st.array("ops");
      if ((!ops || ops->empty()) && step.hold_ms == 0) st.self().fail("a step needs ops or a hold (a step without ops just waits)");
      for (size_t j = 0; ops && j < ops->size(); ++j) {
        auto op_path = indexed(st.field("ops"), j);
        step.ops.push_back(parse_op(st, st.table_at(*ops, j, op_path), op_path, names));
        workers += count_workers(step.ops.back().workers);
        if (step.ops.back().kind == StepOp::Kind::watch && ++watches > kMaxScenarioWatches)
          step.ops.back().where.fail("more than " + std::to_string(kMaxScenarioWatches) +
                                     " watch ops (the debug registers have 3 user slots)");
      }
      at_ms += step.hold_ms;
      if (at_ms > s.duration_ms)
        st.fail(st.has("hold") ? "hold" : "hold_s",
                "the holds so far add up to " + std::to_string(at_ms) + " ms, more than the duration (" +
                    std::to_string(s.duration_ms) + " ms)");
      s.steps.push_back(std::move(step));
    }
  }
  if (workers == 0 && s.payloads.empty())
    top.self().fail("no workers: declare some in [[cgroup]] workers or a spawn step (or run [[payload]]s alone)");
  if (workers > kMaxWorkers) top.self().fail(std::to_string(workers) + " workers, at most " + std::to_string(kMaxWorkers));
  if (names.created() > kMaxCgroups)
    top.self().fail(std::to_string(names.created()) + " cgroups, at most " + std::to_string(kMaxCgroups));
  return s;
}

Scenario parse_scenario_file(const std::string& path) {
  // Bounded before it is read: a huge file would otherwise cost seconds and gigabytes.
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxScenarioFileBytes)
    throw ScenarioError(path + ": " + std::to_string(size) + " bytes; a scenario file is at most " +
                        std::to_string(kMaxScenarioFileBytes / 1024) + " KiB");
  auto text = read_file(path);
  if (!text) throw ScenarioError(path + ": cannot read the scenario file");
  return parse_scenario(*text, path);
}

}  // namespace ktstr::cli
