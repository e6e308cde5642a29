#include "scenario_runner.hpp"

#include <signal.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cmath>
#include <memory>

#include "cgroups.hpp"
#include "apps/protocol/plan.hpp"
#include "payload_runner.hpp"
#include "scheduler_runner.hpp"
#include "sysfs_text.hpp"
#include "workers/worker_context.hpp"
#include "workers/worker_set.hpp"

namespace ktstr::agent {

using namespace protocol;  // the plan's types (apps/protocol/plan.hpp)

namespace {

constexpr int64_t kTickNs = 20'000'000;        // watch the scheduler, reap workers
constexpr int64_t kReadyTimeoutNs = 10'000'000'000;

long long whole_ms(int64_t ns) { return std::llround(static_cast<double>(ns) / 1e6); }

double uptime_s() {
  if (auto t = read_text("/proc/uptime")) return std::strtod(t->c_str(), nullptr);
  return 0;
}

void sleep_until_ns(int64_t deadline) {
  timespec ts{static_cast<time_t>(deadline / 1'000'000'000), static_cast<long>(deadline % 1'000'000'000)};
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

SchedulerEvent scheduler_event(SchedulerState state) {
  SchedulerEvent e;
  e.state = state;
  return e;
}

bool in_cgroup_tree(const std::string& cgroup, const std::string& root) {
  return cgroup == root || cgroup.rfind(root + "/", 0) == 0;
}

class Run {
 public:
  Run(const Plan& plan, AgentChannel& ch, const std::atomic<bool>& stop, const ScenarioOptions& opt)
      : plan_(plan),
        ch_(ch),
        stop_(stop),
        opt_(opt),
        cg_(opt.cgroup_root),
        ws_(&cg_, plan.checkpoint_us, plan.usable_cpus),
        payloads_(&cg_, plan.payloads) {}

  void run() {
    if (plan_.rt_runtime_us)
      if (auto e = write_file(opt_.rt_runtime_path, std::to_string(*plan_.rt_runtime_us)); !e.empty()) error("rt_runtime_us: " + e);
    if (plan_.scheduler && !start_scheduler()) return done(0);
    bool needs_cgroups = !plan_.cgroups.empty() ||
                         std::any_of(plan_.workers.begin(), plan_.workers.end(), [](auto& w) { return !w.cgroup.empty(); }) ||
                         std::any_of(plan_.payloads.begin(), plan_.payloads.end(), [](auto& p) { return !p.cgroup.empty(); });
    if (needs_cgroups)
      if (auto e = cg_.check_root()) error("cgroups: " + *e);
    for (const auto& c : plan_.cgroups) {
      for (const auto& e : cg_.create(c.path, c.cpus)) error("cgroup " + c.path + ": " + e);
      cgroups_.push_back(c.path);
    }

    auto initial = ws_.launch(plan_.workers);
    auto late = ws_.wait_ready(initial, kReadyTimeoutNs);
    for (auto i : late) error("worker " + ws_.at(i).spec.name + " not ready within 10 s");
    t0_ = mono_ns();
    ws_.release(initial);
    ch_.emit(ScenarioStarted{0, plan_.name, static_cast<uint32_t>(plan_.workers.size()),
                             {plan_.usable_cpus.begin(), plan_.usable_cpus.end()}, uptime_s()});
    if (!late.empty()) ws_.request_stop(late);
    report_ended();

    Wait waited = Wait::reached;
    for (size_t s = 0; s < plan_.steps.size() && waited == Wait::reached; ++s) {
      waited = wait_until(t0_ + static_cast<int64_t>(plan_.steps[s].at_ms) * 1'000'000);
      if (waited == Wait::reached) run_step(s);
    }
    if (waited == Wait::reached) waited = wait_until(t0_ + static_cast<int64_t>(plan_.duration_ms) * 1'000'000);
    if (waited == Wait::host_stop) error("stopped early by the host at " + std::to_string(whole_ms(mono_ns() - t0_)) + " ms");

    thaw_due(/*all=*/true);  // a frozen worker cannot take its stop signal
    std::vector<Reaped> others;
    ws_.stop_and_wait(ws_.live(), &others);
    payloads_.consume(others);
    payloads_.stop_all(&others);
    watch_scheduler(others);
    report_ended();
    if (sched_) {
      sched_->stop();
      if (!sched_died_) {
        auto e = scheduler_event(SchedulerState::stopped);
        e.at_ms = whole_ms(mono_ns() - t0_);
        ch_.emit(e);
      }
    }
    for (auto it = cgroups_.rbegin(); it != cgroups_.rend(); ++it)
      for (const auto& e : cg_.remove(*it)) error("cgroup " + *it + ": " + e);
    done(mono_ns() - t0_);
  }

 private:
  void error(const std::string& e) {
    ch_.emit_error(e);
    errors_.push_back(e);
  }
  void done(int64_t wall_ns) {
    ch_.emit(ScenarioDone{0, std::round(static_cast<double>(wall_ns) / 1e5) / 10.0, errors_});
  }
  long long sched_ms() const { return whole_ms(mono_ns() - sched_start_ns_); }

  bool start_scheduler() {
    sched_ = std::make_unique<SchedulerRunner>(*plan_.scheduler, opt_.sched_ext_root, opt_.console_fd);
    if (auto why = sched_->unsupported_reason()) {
      auto e = scheduler_event(SchedulerState::unsupported);
      e.reason = *why;
      ch_.emit(e);
      errors_.push_back("scheduler unsupported: " + *why);
      sched_.reset();
      return false;
    }
    sched_start_ns_ = mono_ns();
    if (auto e = sched_->start()) {
      error("scheduler " + plan_.scheduler->path + ": " + *e);
      sched_.reset();
      return false;
    }
    auto started = scheduler_event(SchedulerState::started);
    started.pid = static_cast<uint32_t>(sched_->pid());
    started.path = plan_.scheduler->path;
    ch_.emit(started);
    int64_t deadline = sched_start_ns_ + static_cast<int64_t>(plan_.scheduler->enable_timeout_ms) * 1'000'000;
    for (;;) {
      if (sched_->state() == "enabled") {
        auto e = scheduler_event(SchedulerState::enabled);
        e.after_ms = sched_ms();
        e.ops = sched_->ops();
        ch_.emit(e);
        return true;
      }
      auto reaped = reap_children();
      if (sched_->consume(reaped)) {
        // Before t0: at_ms counts back from now, the closest there is to a t0.
        auto e = scheduler_event(SchedulerState::died);
        e.at_ms = 0;
        e.after_ms = sched_ms();
        e.status = sched_->exit_status();
        e.output = sched_->output();
        ch_.emit(e);
        errors_.push_back("scheduler died before it was enabled: " + sched_->exit_status());
        sched_->stop();
        return false;
      }
      if (stop_) {
        errors_.push_back("stopped by the host while the scheduler was starting");
        sched_->stop();
        return false;
      }
      if (mono_ns() >= deadline) {
        auto e = scheduler_event(SchedulerState::enable_timeout);
        e.after_ms = sched_ms();
        e.sched_ext_state = sched_->state();
        e.output = sched_->output();
        ch_.emit(e);
        errors_.push_back("scheduler not enabled within " + std::to_string(plan_.scheduler->enable_timeout_ms) + " ms");
        sched_->stop();
        return false;
      }
      sleep_until_ns(mono_ns() + kTickNs);
    }
  }

  void watch_scheduler(std::vector<Reaped>& reaped) {
    if (!sched_) return;
    if (opt_.kill_scheduler_ms && !sched_killed_ && mono_ns() - t0_ >= int64_t(opt_.kill_scheduler_ms) * 1'000'000) {
      sched_killed_ = true;
      ::kill(sched_->pid(), SIGKILL);
    }
    if (!sched_died_ && sched_->consume(reaped)) {
      sched_died_ = true;
      auto e = scheduler_event(SchedulerState::died);
      e.at_ms = whole_ms(mono_ns() - t0_);
      e.status = sched_->exit_status();
      e.output = sched_->output();
      ch_.emit(e);
    }
    if (!sched_ejected_) {
      auto state = sched_->state();
      if (state != "enabled") {
        sched_ejected_ = true;
        auto e = scheduler_event(SchedulerState::ejected);
        e.at_ms = whole_ms(mono_ns() - t0_);
        e.sched_ext_state = state;
        e.output = sched_->output();
        ch_.emit(e);
      }
    }
  }

  void report_ended() {
    for (auto i : ws_.take_ended()) ch_.emit(ws_.report(i, t0_));
    for (auto& r : payloads_.take_ended(t0_)) ch_.emit(r);
  }

  /// Thaws the frozen cgroups whose time is up (all of them at the end); a failure is an
  /// agent error, as the freeze's step has long been reported.
  void thaw_due(bool all) {
    const int64_t now = mono_ns();
    std::erase_if(frozen_, [&](const std::pair<std::string, int64_t>& f) {
      if (!all && now < f.second) return false;
      for (const auto& e : cg_.set_frozen(f.first, false)) error("cgroup_freeze " + f.first + ": thaw: " + e);
      return true;
    });
  }

  void tick() {
    thaw_due(/*all=*/false);
    payloads_.start_due(t0_, mono_ns());
    auto reaped = reap_children();
    ws_.collect(reaped);
    payloads_.consume(reaped);
    watch_scheduler(reaped);
    report_ended();
  }

  enum class Wait { reached, host_stop, payloads_ended };
  /// Sleeps to the absolute deadline in ticks, or until the host asks to stop, or until a
  /// payload-only scenario's payloads all ended.
  Wait wait_until(int64_t deadline) {
    for (;;) {
      tick();
      if (stop_) return Wait::host_stop;
      if (plan_.end_with_payloads && payloads_.all_ended()) return Wait::payloads_ended;
      int64_t now = mono_ns();
      if (now >= deadline) return Wait::reached;
      sleep_until_ns(std::min(deadline, now + kTickNs));
    }
  }

  void mask_changed(const std::vector<size_t>& which) {
    int64_t now = mono_ns();
    for (auto i : which) {
      auto* slot = ws_.at(i).slot;
      slot->mask_changed_ns.store(now);
      slot->mask_gen.fetch_add(1, std::memory_order_release);
    }
  }
  std::vector<size_t> live_in_tree(const std::string& root) {
    std::vector<size_t> out;
    for (auto i : ws_.live())
      if (in_cgroup_tree(ws_.at(i).cgroup, root)) out.push_back(i);
    return out;
  }

  void run_step(size_t index) {
    const Step& step = plan_.steps[index];
    int64_t began = mono_ns();
    std::vector<std::string> errs;
    auto add = [&](const Op& op, const std::string& target, const std::vector<std::string>& es) {
      for (const auto& e : es) errs.push_back(std::string(to_string(op.kind)) + " " + target + ": " + e);
    };
    for (const auto& op : step.ops) {
      switch (op.kind) {
        case Op::Kind::set_cpuset:
          add(op, op.cgroup, cg_.set_cpus(op.cgroup, *op.cpus));
          mask_changed(live_in_tree(op.cgroup));
          break;
        case Op::Kind::clear_cpuset:
          add(op, op.cgroup, cg_.clear_cpus(op.cgroup));
          mask_changed(live_in_tree(op.cgroup));
          break;
        case Op::Kind::add_cgroup:
          add(op, op.cgroup, cg_.create(op.cgroup, op.cpus));
          if (std::find(cgroups_.begin(), cgroups_.end(), op.cgroup) == cgroups_.end()) cgroups_.push_back(op.cgroup);
          break;
        case Op::Kind::remove_cgroup: {
          std::vector<Reaped> others;
          ws_.stop_and_wait(live_in_tree(op.cgroup), &others);
          payloads_.consume(others);
          watch_scheduler(others);
          report_ended();
          add(op, op.cgroup, cg_.remove(op.cgroup));
          std::erase(cgroups_, op.cgroup);
          break;
        }
        case Op::Kind::spawn: {
          auto started = ws_.launch(op.spawn);
          auto late = ws_.wait_ready(started, kReadyTimeoutNs);
          ws_.release(started);
          for (auto i : late) errs.push_back("spawn " + ws_.at(i).spec.name + ": not ready within 10 s");
          if (!late.empty()) ws_.request_stop(late);
          report_ended();
          break;
        }
        case Op::Kind::stop: {
          std::vector<size_t> which;
          for (auto id : op.workers)
            if (auto i = ws_.find(id); i && !ws_.at(*i).reaped) which.push_back(*i);
          std::vector<Reaped> others;
          ws_.stop_and_wait(which, &others);
          payloads_.consume(others);
          watch_scheduler(others);
          report_ended();
          break;
        }
        case Op::Kind::move_tasks: {
          auto which = ws_.live_in(op.from);
          for (auto i : which) {
            auto& w = ws_.at(i);
            add(op, op.from + " -> " + op.to + " (" + w.spec.name + ")", cg_.move(op.to, w.pid));
            w.cgroup = op.to;
          }
          mask_changed(which);
          break;
        }
        case Op::Kind::set_affinity: {
          cpu_set_t set;
          CPU_ZERO(&set);
          for (int c : *op.cpus) CPU_SET(c, &set);
          std::vector<size_t> which;
          for (auto id : op.workers) {
            auto i = ws_.find(id);
            if (!i || ws_.at(*i).reaped) continue;
            auto& w = ws_.at(*i);
            w.slot->base_cpus = CpuBits::of(*op.cpus);
            w.slot->base_gen.fetch_add(1, std::memory_order_release);
            if (::sched_setaffinity(w.pid, sizeof set, &set) != 0)
              errs.push_back("set_affinity " + w.spec.name + ": " + std::strerror(errno));
            which.push_back(*i);
          }
          mask_changed(which);
          break;
        }
        case Op::Kind::scheduler_kill:
          if (!sched_ || sched_->exited()) errs.push_back("scheduler_kill: no scheduler running");
          else if (::kill(sched_->pid(), op.signal) != 0)
            errs.push_back("scheduler_kill " + std::to_string(op.signal) + ": " + std::strerror(errno));
          break;
        case Op::Kind::cpu_offline:
        case Op::Kind::cpu_online: {
          const std::string file = opt_.cpu_sysfs_root + "/cpu" + std::to_string(op.cpu) + "/online";
          if (auto e = write_file(file, op.kind == Op::Kind::cpu_online ? "1" : "0"); !e.empty())
            errs.push_back(std::string(to_string(op.kind)) + " " + std::to_string(op.cpu) + ": " + e);
          break;
        }
        case Op::Kind::cgroup_freeze: {
          auto es = cg_.set_frozen(op.cgroup, true);
          add(op, op.cgroup, es);
          if (es.empty()) frozen_.emplace_back(op.cgroup, mono_ns() + static_cast<int64_t>(op.for_ms) * 1'000'000);
          break;
        }
      }
    }
    ch_.emit(StepEvent{0, static_cast<uint32_t>(index), static_cast<double>(whole_ms(began - t0_)),
                       static_cast<double>(step.at_ms), errs});
    errors_step_count_ += errs.size();
  }

  const Plan& plan_;
  AgentChannel& ch_;
  const std::atomic<bool>& stop_;
  const ScenarioOptions& opt_;
  Cgroups cg_;
  WorkerSet ws_;
  PayloadSet payloads_;
  std::unique_ptr<SchedulerRunner> sched_;
  bool sched_died_ = false, sched_ejected_ = false, sched_killed_ = false;
  int64_t sched_start_ns_ = 0;
  int64_t t0_ = 0;
  std::vector<std::string> cgroups_;  ///< created, in creation order
  std::vector<std::pair<std::string, int64_t>> frozen_;  ///< cgroup_freeze: cgroup, thaw at (mono ns)
  std::vector<std::string> errors_;
  size_t errors_step_count_ = 0;
};

}  // namespace

void run_scenario(const std::string& plan_text, AgentChannel& channel, const std::atomic<bool>& stop_requested,
                  const ScenarioOptions& options) {
  try {
    auto parsed = parse_plan(plan_text);
    if (!parsed.plan) {
      for (const auto& e : parsed.errors) channel.emit_error(e);
      channel.emit(ScenarioDone{0, 0, parsed.errors});
      return;
    }
    Run run(*parsed.plan, channel, stop_requested, options);
    run.run();
  } catch (const std::exception& e) {
    channel.emit_error(std::string("scenario failed: ") + e.what());
    channel.emit(ScenarioDone{0, 0, {std::string("scenario failed: ") + e.what()}});
  }
}

}  // namespace ktstr::agent
