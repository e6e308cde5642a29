#include "apps/protocol/plan.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "apps/protocol/plan_limits.hpp"

namespace ktstr::protocol {

namespace {

using J = nlohmann::json;

namespace limits = ktstr::protocol;  // plan_limits.hpp, named where used
constexpr int kMaxCpu = 1023;  // CPU_SETSIZE - 1

// Collects errors with the JSON path of the offending field; every getter returns a
// usable default after recording an error, so one pass reports every problem.
struct Checker {
  std::vector<std::string> errors;

  void fail(const std::string& where, const std::string& why) {
    if (errors.size() < 50) errors.push_back("plan " + where + ": " + why);
  }
  const J* field(const J& obj, const std::string& where, const char* key, bool required) {
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required) fail(where + "." + key, "missing");
      return nullptr;
    }
    return &*it;
  }
  bool is_null_or_missing(const J& obj, const char* key) {
    auto it = obj.find(key);
    return it == obj.end() || it->is_null();
  }
  int64_t integer(const J& obj, const std::string& where, const char* key, limits::Range range,
                  std::optional<int64_t> dflt = std::nullopt) {
    return integer(obj, where, key, range.min, range.max, dflt);
  }
  int64_t integer(const J& obj, const std::string& where, const char* key, int64_t lo, int64_t hi,
                  std::optional<int64_t> dflt = std::nullopt) {
    const J* v = field(obj, where, key, !dflt);
    if (!v) return dflt.value_or(lo);
    if (!v->is_number_integer()) {
      fail(where + "." + key, "not an integer");
      return dflt.value_or(lo);
    }
    auto x = v->get<int64_t>();
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) x = INT64_MAX;
    if (x < lo || x > hi) {
      fail(where + "." + key, std::to_string(x) + " outside " + std::to_string(lo) + ".." + std::to_string(hi));
      return std::clamp(x, lo, hi);
    }
    return x;
  }
  std::string string(const J& obj, const std::string& where, const char* key, bool required = true) {
    const J* v = field(obj, where, key, required);
    if (!v) return {};
    if (!v->is_string()) {
      fail(where + "." + key, "not a string");
      return {};
    }
    auto s = v->get<std::string>();
    if (s.size() > kMaxPlanString) {
      fail(where + "." + key, "longer than " + std::to_string(kMaxPlanString) + " bytes");
      s.resize(kMaxPlanString);
    }
    return s;
  }
  std::vector<int> cpu_list(const J& v, const std::string& where) {
    std::vector<int> cpus;
    if (!v.is_array()) {
      fail(where, "not a list of CPU ids");
      return cpus;
    }
    if (v.size() > kMaxCpu + 1) fail(where, "too many CPUs");
    for (const auto& c : v) {
      if (!c.is_number_integer() || c.get<int64_t>() < 0 || c.get<int64_t>() > kMaxCpu) {
        fail(where, "CPU id not in 0.." + std::to_string(kMaxCpu));
        continue;
      }
      cpus.push_back(c.get<int>());
    }
    std::sort(cpus.begin(), cpus.end());
    cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
    return cpus;
  }
  std::optional<std::vector<int>> nullable_cpus(const J& obj, const std::string& where, const char* key) {
    if (is_null_or_missing(obj, key)) return std::nullopt;
    auto cpus = cpu_list(obj[key], where + "." + key);
    if (cpus.empty()) fail(where + "." + key, "empty CPU list (use null for no restriction)");
    return cpus;
  }
  std::string cgroup_path(const J& obj, const std::string& where, const char* key, bool allow_empty) {
    auto path = string(obj, where, key, !allow_empty);
    if (path.empty()) {
      if (!allow_empty) fail(where + "." + key, "empty cgroup path");
      return path;
    }
    if (!valid_cgroup_path(path)) fail(where + "." + key, "bad cgroup path \"" + path + "\" (components [A-Za-z0-9_.-]+)");
    return path;
  }

  WorkerSpec worker(const J& w, const std::string& where) {
    WorkerSpec spec;
    if (!w.is_object()) {
      fail(where, "not an object");
      return spec;
    }
    spec.id = static_cast<uint32_t>(integer(w, where, "id", 0, 1'000'000));
    spec.name = string(w, where, "name");
    spec.cgroup = is_null_or_missing(w, "cgroup") ? std::string() : cgroup_path(w, where, "cgroup", true);
    auto type = string(w, where, "type");
    auto t = work_type_from(type);
    if (!t || *t == WorkType::test_block)
      fail(where + ".type", "unknown work type \"" + type + "\"");
    else
      spec.type = *t;
    auto policy = string(w, where, "policy", false);
    if (!policy.empty()) {
      if (auto p = policy_from(policy)) spec.policy = *p;
      else fail(where + ".policy", "unknown policy \"" + policy + "\"");
    }
    bool rt = spec.policy == Policy::fifo || spec.policy == Policy::rr;
    spec.priority = static_cast<int>(integer(w, where, "priority", rt ? limits::kRtPriority : limits::Range{0, 0}, rt ? 50 : 0));
    spec.nice = static_cast<int>(integer(w, where, "nice", limits::kNice, 0));
    spec.affinity = nullable_cpus(w, where, "affinity");
    spec.start_ms = static_cast<uint64_t>(integer(w, where, "start_ms", 0, kMaxDurationMs, 0));
    if (const J* p = field(w, where, "params", false); p && !p->is_null()) {
      if (!p->is_object()) {
        fail(where + ".params", "not an object");
      } else {
        auto pw = where + ".params";
        for (const auto& [k, _] : p->items())
          if (k != "partner" && !limits::param_limit(k)) fail(pw + "." + k, "unknown parameter");
        auto& pr = spec.params;
        auto param = [&](const char* name, uint32_t dflt) {
          return static_cast<uint32_t>(integer(*p, pw, name, limits::param_limit(name)->range, dflt));
        };
        pr.work_us = param("work_us", pr.work_us);
        pr.sleep_us = param("sleep_us", pr.sleep_us);
        pr.burst_ms = param("burst_ms", pr.burst_ms);
        pr.idle_ms = param("idle_ms", pr.idle_ms);
        pr.cache_kib = param("cache_kib", pr.cache_kib);
        if (!is_null_or_missing(*p, "partner"))
          pr.partner = static_cast<uint32_t>(integer(*p, pw, "partner", 0, 1'000'000));
      }
    }
    return spec;
  }
};

}  // namespace

PlanResult parse_plan(std::string_view text) {
  PlanResult result;
  Checker ck;
  if (text.size() > 16 * 1024 * 1024) {
    result.errors.push_back("plan larger than 16 MiB");
    return result;
  }
  J root = J::parse(text, nullptr, false);
  if (root.is_discarded() || !root.is_object()) {
    result.errors.push_back("plan is not a JSON object");
    return result;
  }
  Plan plan;
  ck.integer(root, "", "version", kPlanVersion, kPlanVersion);
  plan.name = ck.string(root, "", "name");
  plan.duration_ms = static_cast<uint64_t>(ck.integer(root, "", "duration_ms", 1, kMaxDurationMs));
  if (const J* u = ck.field(root, "", "usable_cpus", true)) plan.usable_cpus = ck.cpu_list(*u, ".usable_cpus");
  plan.checkpoint_us = static_cast<uint32_t>(ck.integer(root, "", "checkpoint_us", limits::kCheckpointUs, 1000));
  if (!ck.is_null_or_missing(root, "rt_runtime_us"))
    plan.rt_runtime_us = ck.integer(root, "", "rt_runtime_us", -1, INT32_MAX);

  std::set<std::string> cgroup_names;
  size_t cgroup_count = 0;
  if (const J* cgs = ck.field(root, "", "cgroups", false); cgs && !cgs->is_null()) {
    if (!cgs->is_array()) ck.fail(".cgroups", "not a list");
    else {
      for (size_t i = 0; i < cgs->size() && i <= kMaxCgroups; ++i) {
        auto where = ".cgroups[" + std::to_string(i) + "]";
        const J& c = (*cgs)[i];
        if (!c.is_object()) { ck.fail(where, "not an object"); continue; }
        CgroupSpec spec{ck.cgroup_path(c, where, "path", false), ck.nullable_cpus(c, where, "cpus")};
        if (!cgroup_names.insert(spec.path).second) ck.fail(where + ".path", "duplicate cgroup " + spec.path);
        plan.cgroups.push_back(std::move(spec));
      }
      cgroup_count = cgs->size();
    }
  }

  // Workers: initial and spawned share one id space; pairs must start together.
  std::map<uint32_t, std::pair<WorkType, std::optional<uint32_t>>> ids;
  std::map<uint32_t, int> batch_of;  // 0: initial, 1+i: spawn op i
  int batches = 0;
  size_t worker_count = 0;
  std::set<std::string> all_cgroups = cgroup_names;
  auto add_worker = [&](const WorkerSpec& w, const std::string& where, int batch) {
    if (!ids.emplace(w.id, std::make_pair(w.type, w.params.partner)).second)
      ck.fail(where + ".id", "duplicate worker id " + std::to_string(w.id));
    batch_of[w.id] = batch;
    ++worker_count;
  };
  if (const J* ws = ck.field(root, "", "workers", true)) {
    if (!ws->is_array()) ck.fail(".workers", "not a list");
    else {
      for (size_t i = 0; i < ws->size() && i <= kMaxWorkers; ++i) {
        auto where = ".workers[" + std::to_string(i) + "]";
        auto w = ck.worker((*ws)[i], where);
        if (w.start_ms != 0) ck.fail(where + ".start_ms", "initial workers start at 0");
        add_worker(w, where, 0);
        plan.workers.push_back(std::move(w));
      }
      worker_count = std::max(worker_count, ws->size());
    }
  }

  std::vector<std::pair<std::string, std::vector<uint32_t>>> worker_refs;  // checked once all ids are known
  std::vector<std::pair<std::string, std::string>> cgroup_refs;
  if (const J* ss = ck.field(root, "", "steps", false); ss && !ss->is_null()) {
    if (!ss->is_array()) ck.fail(".steps", "not a list");
    else if (ss->size() > kMaxSteps) ck.fail(".steps", "more than " + std::to_string(kMaxSteps) + " steps");
    else {
      uint64_t last = 0;
      for (size_t i = 0; i < ss->size(); ++i) {
        auto where = ".steps[" + std::to_string(i) + "]";
        const J& s = (*ss)[i];
        if (!s.is_object()) { ck.fail(where, "not an object"); continue; }
        Step step;
        step.at_ms = static_cast<uint64_t>(ck.integer(s, where, "at_ms", 0, kMaxDurationMs));
        if (step.at_ms < last) ck.fail(where + ".at_ms", "steps not sorted by at_ms");
        if (step.at_ms >= plan.duration_ms) ck.fail(where + ".at_ms", "not before duration_ms");
        last = step.at_ms;
        const J* ops = ck.field(s, where, "ops", true);
        if (ops && (!ops->is_array() || ops->size() > kMaxOpsPerStep)) { ck.fail(where + ".ops", "not a list of at most " + std::to_string(kMaxOpsPerStep) + " ops"); ops = nullptr; }
        for (size_t k = 0; ops && k < ops->size(); ++k) {
          auto ow = where + ".ops[" + std::to_string(k) + "]";
          const J& o = (*ops)[k];
          if (!o.is_object()) { ck.fail(ow, "not an object"); continue; }
          Op op;
          auto name = ck.string(o, ow, "op");
          auto kind = op_kind_from(name);
          if (!kind) { ck.fail(ow + ".op", "unknown op \"" + name + "\""); continue; }
          op.kind = *kind;
          auto worker_ids = [&]() {
            std::vector<uint32_t> out;
            const J* w = ck.field(o, ow, "workers", true);
            if (!w) return out;
            if (!w->is_array() || w->size() > kMaxWorkers) { ck.fail(ow + ".workers", "not a list of worker ids"); return out; }
            for (const auto& x : *w) {
              if (!x.is_number_unsigned()) { ck.fail(ow + ".workers", "not a worker id"); continue; }
              out.push_back(x.get<uint32_t>());
            }
            worker_refs.emplace_back(ow + ".workers", out);
            return out;
          };
          switch (op.kind) {
            case Op::Kind::set_cpuset:
              op.cgroup = ck.cgroup_path(o, ow, "cgroup", false);
              op.cpus = ck.nullable_cpus(o, ow, "cpus");
              if (!op.cpus) ck.fail(ow + ".cpus", "missing");
              cgroup_refs.emplace_back(ow + ".cgroup", op.cgroup);
              break;
            case Op::Kind::clear_cpuset:
            case Op::Kind::remove_cgroup:
              op.cgroup = ck.cgroup_path(o, ow, "cgroup", false);
              cgroup_refs.emplace_back(ow + ".cgroup", op.cgroup);
              break;
            case Op::Kind::add_cgroup:
              op.cgroup = ck.cgroup_path(o, ow, "cgroup", false);
              op.cpus = ck.nullable_cpus(o, ow, "cpus");
              all_cgroups.insert(op.cgroup);
              ++cgroup_count;
              break;
            case Op::Kind::spawn: {
              const J* w = ck.field(o, ow, "workers", true);
              if (!w || !w->is_array() || w->size() > kMaxWorkers) { ck.fail(ow + ".workers", "not a list of workers"); break; }
              ++batches;
              for (size_t j = 0; j < w->size(); ++j) {
                auto ww = ow + ".workers[" + std::to_string(j) + "]";
                auto spec = ck.worker((*w)[j], ww);
                if (spec.start_ms != step.at_ms) ck.fail(ww + ".start_ms", "differs from the step's at_ms");
                add_worker(spec, ww, batches);
                op.spawn.push_back(std::move(spec));
              }
              break;
            }
            case Op::Kind::stop:
              op.workers = worker_ids();
              break;
            case Op::Kind::set_affinity:
              op.workers = worker_ids();
              op.cpus = ck.nullable_cpus(o, ow, "cpus");
              if (!op.cpus) ck.fail(ow + ".cpus", "missing");
              break;
            case Op::Kind::scheduler_kill:
              op.signal = static_cast<int>(ck.integer(o, ow, "signal", 1, 64));
              break;
            case Op::Kind::cpu_offline:
            case Op::Kind::cpu_online:
              op.cpu = static_cast<int>(ck.integer(o, ow, "cpu", 0, kMaxCpu));
              break;
            case Op::Kind::cgroup_freeze:
              op.cgroup = ck.cgroup_path(o, ow, "cgroup", false);
              op.for_ms = static_cast<uint64_t>(ck.integer(o, ow, "for_ms", 1, kMaxDurationMs));
              cgroup_refs.emplace_back(ow + ".cgroup", op.cgroup);
              break;
            case Op::Kind::move_tasks:
              op.from = ck.cgroup_path(o, ow, "from", false);
              op.to = ck.cgroup_path(o, ow, "to", false);
              cgroup_refs.emplace_back(ow + ".from", op.from);
              cgroup_refs.emplace_back(ow + ".to", op.to);
              break;
          }
          step.ops.push_back(std::move(op));
        }
        plan.steps.push_back(std::move(step));
      }
    }
  }
  if (worker_count > kMaxWorkers) ck.fail(".workers", "more than " + std::to_string(kMaxWorkers) + " workers");
  if (cgroup_count > kMaxCgroups) ck.fail(".cgroups", "more than " + std::to_string(kMaxCgroups) + " cgroups");

  for (const auto& [where, list] : worker_refs)
    for (auto id : list)
      if (!ids.count(id)) ck.fail(where, "unknown worker id " + std::to_string(id));
  for (const auto& [where, path] : cgroup_refs)
    if (!all_cgroups.count(path)) ck.fail(where, "unknown cgroup " + path);
  auto check_worker_refs = [&](const WorkerSpec& w, const std::string& where) {
    if (!w.cgroup.empty() && !all_cgroups.count(w.cgroup)) ck.fail(where + ".cgroup", "unknown cgroup " + w.cgroup);
    bool pair_type = w.type == WorkType::pipe_pingpong || w.type == WorkType::futex_pingpong;
    if (pair_type != w.params.partner.has_value()) {
      ck.fail(where + ".params.partner", pair_type ? "ping-pong worker without partner" : "partner on a non-ping-pong worker");
      return;
    }
    if (!pair_type) return;
    auto p = *w.params.partner;
    auto it = ids.find(p);
    if (p == w.id || it == ids.end() || it->second.first != w.type || it->second.second != w.id || batch_of[p] != batch_of[w.id])
      ck.fail(where + ".params.partner", "partner " + std::to_string(p) +
                                             " must be another worker of the same type, naming this one, started together");
  };
  for (size_t i = 0; i < plan.workers.size(); ++i) check_worker_refs(plan.workers[i], ".workers[" + std::to_string(i) + "]");
  for (size_t i = 0; i < plan.steps.size(); ++i)
    for (const auto& op : plan.steps[i].ops)
      for (const auto& w : op.spawn) check_worker_refs(w, ".steps[" + std::to_string(i) + "] spawn worker " + std::to_string(w.id));

  if (const J* s = ck.field(root, "", "scheduler", false); s && !s->is_null()) {
    if (!s->is_object()) ck.fail(".scheduler", "not an object or null");
    else {
      SchedulerSpec spec;
      spec.path = ck.string(*s, ".scheduler", "path");
      if (spec.path.empty() || spec.path[0] != '/') ck.fail(".scheduler.path", "not an absolute path");
      if (const J* a = ck.field(*s, ".scheduler", "args", false); a && !a->is_null()) {
        if (!a->is_array() || a->size() > kMaxSchedulerArgs) ck.fail(".scheduler.args", "not a list of at most " + std::to_string(kMaxSchedulerArgs) + " strings");
        else
          for (const auto& x : *a) {
            if (!x.is_string() || x.get<std::string>().size() > limits::kMaxSchedulerArgBytes || x.get<std::string>().find('\0') != std::string::npos)
              ck.fail(".scheduler.args", "not a string");
            else spec.args.push_back(x.get<std::string>());
          }
      }
      spec.enable_timeout_ms = static_cast<uint64_t>(ck.integer(*s, ".scheduler", "enable_timeout_ms", limits::kSchedulerEnableTimeoutMs, 10000));
      plan.scheduler = std::move(spec);
    }
  }
  if (const J* ps = ck.field(root, "", "payloads", false); ps && !ps->is_null()) {
    if (!ps->is_array() || ps->size() > limits::kMaxPayloads) {
      ck.fail(".payloads", "not a list of at most " + std::to_string(limits::kMaxPayloads) + " payloads");
    } else {
      std::set<uint32_t> payload_ids;
      for (size_t i = 0; i < ps->size(); ++i) {
        const J& p = (*ps)[i];
        const auto where = ".payloads[" + std::to_string(i) + "]";
        if (!p.is_object()) {
          ck.fail(where, "not an object");
          continue;
        }
        PayloadSpec spec;
        spec.id = static_cast<uint32_t>(ck.integer(p, where, "id", 0, 1'000'000));
        if (!payload_ids.insert(spec.id).second) ck.fail(where + ".id", "duplicate payload id " + std::to_string(spec.id));
        spec.name = ck.string(p, where, "name");
        if (!valid_cgroup_component(spec.name)) ck.fail(where + ".name", "not a name of [A-Za-z0-9_.-]");
        spec.path = ck.string(p, where, "path");
        if (spec.path.empty() || spec.path[0] != '/') ck.fail(where + ".path", "not an absolute path");
        if (const J* a = ck.field(p, where, "args", false); a && !a->is_null()) {
          if (!a->is_array() || a->size() > limits::kMaxPayloadArgs) {
            ck.fail(where + ".args", "not a list of at most " + std::to_string(limits::kMaxPayloadArgs) + " strings");
          } else {
            for (const auto& x : *a) {
              if (!x.is_string() || x.get<std::string>().size() > limits::kMaxPayloadArgBytes ||
                  x.get<std::string>().find('\0') != std::string::npos)
                ck.fail(where + ".args", "not a string of at most " + std::to_string(limits::kMaxPayloadArgBytes) + " bytes");
              else spec.args.push_back(x.get<std::string>());
            }
          }
        }
        spec.cgroup = ck.is_null_or_missing(p, "cgroup") ? std::string() : ck.cgroup_path(p, where, "cgroup", true);
        if (!spec.cgroup.empty() && !all_cgroups.count(spec.cgroup)) ck.fail(where + ".cgroup", "unknown cgroup " + spec.cgroup);
        spec.start_ms = static_cast<uint64_t>(ck.integer(p, where, "start_ms", 0, kMaxDurationMs, 0));
        plan.payloads.push_back(std::move(spec));
      }
    }
  }
  if (const J* e = ck.field(root, "", "end_with_payloads", false); e && !e->is_null()) {
    if (!e->is_boolean()) ck.fail(".end_with_payloads", "not a boolean");
    else plan.end_with_payloads = e->get<bool>();
  }
  if (plan.end_with_payloads && plan.payloads.empty()) ck.fail(".end_with_payloads", "true without payloads");
  result.errors = std::move(ck.errors);
  if (result.errors.empty()) result.plan = std::move(plan);
  return result;
}

}  // namespace ktstr::protocol
