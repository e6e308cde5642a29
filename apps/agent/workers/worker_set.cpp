#include "worker_set.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <map>

#include "worker_context.hpp"

namespace ktstr::agent {

using namespace protocol;  // the plan's types (apps/protocol/plan.hpp)

namespace {

void on_sigusr1(int) {}  // only interrupts blocking calls

void close_all_but(std::vector<int> keep) {
  keep.push_back(2);
  std::sort(keep.begin(), keep.end());
  unsigned lo = 3;
  for (int fd : keep) {
    if (fd < static_cast<int>(lo)) continue;
    if (static_cast<unsigned>(fd) > lo) ::syscall(SYS_close_range, lo, static_cast<unsigned>(fd) - 1, 0);
    lo = static_cast<unsigned>(fd) + 1;
  }
  ::syscall(SYS_close_range, lo, ~0U, 0);
}

void append_error(WorkerSlot* slot, const std::string& e) {
  size_t used = std::strlen(slot->error);
  std::string text = (used ? "; " : "") + e;
  std::strncat(slot->error, text.c_str(), sizeof slot->error - used - 1);
}

int linux_policy(Policy p) {
  switch (p) {
    case Policy::normal: return SCHED_OTHER;
    case Policy::batch: return SCHED_BATCH;
    case Policy::idle: return SCHED_IDLE;
    case Policy::fifo: return SCHED_FIFO;
    case Policy::rr: return SCHED_RR;
  }
  return SCHED_OTHER;
}

[[noreturn]] void child_main(const WorkerLaunch& l, pid_t parent) {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction sa {};
  sa.sa_handler = on_sigusr1;  // no SA_RESTART: blocking calls return EINTR
  ::sigaction(SIGUSR1, &sa, nullptr);
  sa.sa_handler = SIG_DFL;
  for (int s : {SIGINT, SIGTERM, SIGCHLD, SIGHUP}) ::sigaction(s, &sa, nullptr);
  sa.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &sa, nullptr);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(3);
  ::prctl(PR_SET_NAME, l.spec.name.substr(0, 15).c_str());
  close_all_but({l.pipe_in, l.pipe_out});

  WorkerSlot* slot = l.slot;
  // cgroup first: membership must be real before the start barrier.
  if (!l.cgroup_procs.empty())
    if (auto e = write_file(l.cgroup_procs, std::to_string(::getpid())); !e.empty()) append_error(slot, "join cgroup: " + e);
  if (l.spec.nice != 0 && ::setpriority(PRIO_PROCESS, 0, l.spec.nice) != 0)
    append_error(slot, "setpriority " + std::to_string(l.spec.nice) + ": " + std::strerror(errno));
  Policy policy = l.spec.policy;
  int priority = l.spec.priority;
  if (l.spec.type == WorkType::rt_hog && (policy != Policy::fifo && policy != Policy::rr)) policy = Policy::fifo, priority = 50;
  if (policy != Policy::normal) {
    sched_param sp{};
    sp.sched_priority = priority;
    if (::sched_setscheduler(0, linux_policy(policy), &sp) != 0)
      append_error(slot, std::string("sched_setscheduler ") + std::string(to_string(policy)) + ": " + std::strerror(errno));
  }
  if (l.spec.affinity) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int c : *l.spec.affinity) CPU_SET(c, &set);
    if (::sched_setaffinity(0, sizeof set, &set) != 0) append_error(slot, std::string("sched_setaffinity: ") + std::strerror(errno));
  }

  slot->ready.store(1, std::memory_order_release);
  while (slot->go.load(std::memory_order_acquire) == 0 && slot->stop.load() == 0) {
    futex_wait(&slot->go, 0, 100'000'000);
    if (::getppid() != parent) ::_exit(3);
  }
  WorkerContext ctx(slot, l.checkpoint_us);
  ctx.begin();
  try {
    if (!ctx.stopping()) run_work(ctx, l);
  } catch (const std::exception& e) {
    append_error(slot, std::string("worker failed: ") + e.what());
  }
  ctx.finish();
  ::_exit(0);
}

double ms(int64_t ns) { return std::round(static_cast<double>(ns) / 1e5) / 10.0; }  // 0.1 ms
long long whole_ms(int64_t ns) { return std::llround(static_cast<double>(ns) / 1e6); }

}  // namespace

std::vector<Reaped> reap_children() {
  std::vector<Reaped> out;
  for (;;) {
    Reaped r{};
    r.pid = ::wait4(-1, &r.status, WNOHANG | __WALL, &r.usage);
    if (r.pid <= 0) break;
    out.push_back(r);
  }
  return out;
}

WorkerSet::WorkerSet(Cgroups* cgroups, uint32_t checkpoint_us, std::vector<int> usable_cpus)
    : cgroups_(cgroups), checkpoint_us_(checkpoint_us), usable_cpus_(std::move(usable_cpus)) {}

WorkerSet::~WorkerSet() {
  for (auto& w : workers_)
    if (w.pid > 0 && !w.reaped) {
      ::kill(w.pid, SIGKILL);
      ::waitpid(w.pid, nullptr, __WALL);
    }
  for (auto& w : workers_) {
    unmap_slot(w.slot);
    if (w.pair && w.spec.params.partner && w.spec.id < *w.spec.params.partner) unmap_pair(w.pair);
  }
}

std::vector<size_t> WorkerSet::launch(const std::vector<WorkerSpec>& batch) {
  std::vector<size_t> indices;
  std::vector<WorkerLaunch> launches(batch.size());
  std::map<uint32_t, size_t> by_id;
  std::vector<int> fds;
  for (size_t i = 0; i < batch.size(); ++i) {
    Worker w;
    w.spec = batch[i];
    w.cgroup = batch[i].cgroup;
    w.slot = map_slot();
    if (!w.slot) w.launch_error = std::string("mmap: ") + std::strerror(errno);
    by_id[w.spec.id] = i;
    auto& l = launches[i];
    l.spec = w.spec;
    l.cgroup_procs = (!w.cgroup.empty() && cgroups_) ? cgroups_->dir(w.cgroup) + "/cgroup.procs" : "";
    l.checkpoint_us = checkpoint_us_;
    l.usable_cpus = usable_cpus_;
    l.slot = w.slot;
    indices.push_back(workers_.size());
    workers_.push_back(std::move(w));
  }
  // Ping-pong pairs: the shared futex word or the two pipes exist before either forks.
  for (size_t i = 0; i < batch.size(); ++i) {
    auto& spec = batch[i];
    if (!spec.params.partner || spec.id > *spec.params.partner) continue;
    auto it = by_id.find(*spec.params.partner);
    if (it == by_id.end()) {
      workers_[indices[i]].launch_error = "partner " + std::to_string(*spec.params.partner) + " not started with it";
      continue;
    }
    size_t j = it->second;
    auto &a = launches[i], &b = launches[j];
    a.initiator = true;
    if (spec.type == WorkType::futex_pingpong) {
      a.pair = b.pair = map_pair();
      workers_[indices[i]].pair = workers_[indices[j]].pair = a.pair;
      if (!a.pair) workers_[indices[i]].launch_error = workers_[indices[j]].launch_error = "mmap pair failed";
    } else {
      int ab[2], ba[2];
      if (::pipe2(ab, O_CLOEXEC) != 0 || ::pipe2(ba, O_CLOEXEC) != 0) {
        workers_[indices[i]].launch_error = workers_[indices[j]].launch_error = std::string("pipe: ") + std::strerror(errno);
        continue;
      }
      a.pipe_out = ab[1], b.pipe_in = ab[0], b.pipe_out = ba[1], a.pipe_in = ba[0];
      fds.insert(fds.end(), {ab[0], ab[1], ba[0], ba[1]});
    }
  }
  pid_t self = ::getpid();
  for (size_t i = 0; i < batch.size(); ++i) {
    auto& w = workers_[indices[i]];
    bool pair_type = w.spec.type == WorkType::pipe_pingpong || w.spec.type == WorkType::futex_pingpong;
    if (pair_type && launches[i].pipe_in < 0 && !launches[i].pair && w.launch_error.empty())
      w.launch_error = "ping-pong partner missing";
    if (!w.launch_error.empty()) continue;
    pid_t pid = ::fork();
    if (pid == 0) child_main(launches[i], self);
    if (pid < 0) w.launch_error = std::string("fork: ") + std::strerror(errno);
    w.pid = pid;
  }
  for (int fd : fds) ::close(fd);
  for (auto i : indices) {
    auto& w = workers_[i];
    if (!w.launch_error.empty()) w.reaped = true, ended_order_.push_back(i);  // reports at once
  }
  return indices;
}

std::vector<size_t> WorkerSet::wait_ready(const std::vector<size_t>& which, int64_t timeout_ns) {
  int64_t deadline = mono_ns() + timeout_ns;
  std::vector<size_t> pending = which;
  while (!pending.empty()) {
    std::erase_if(pending, [&](size_t i) {
      auto& w = workers_[i];
      if (w.reaped || w.slot->ready.load(std::memory_order_acquire)) return true;
      int status = 0;
      // A worker that died in setup will never be ready.
      if (::waitpid(w.pid, &status, WNOHANG | __WALL) == w.pid) {
        w.reaped = true, w.status = status, w.ended_ns = mono_ns();
        ended_order_.push_back(i);
        return true;
      }
      return false;
    });
    if (pending.empty() || mono_ns() >= deadline) break;
    ::usleep(500);
  }
  return pending;
}

void WorkerSet::release(const std::vector<size_t>& which) {
  for (auto i : which) {
    auto& w = workers_[i];
    if (w.reaped || !w.slot) continue;
    w.slot->released_ns = mono_ns();
    w.slot->go.store(1, std::memory_order_release);
    futex_wake(&w.slot->go, 1);
  }
}

void WorkerSet::request_stop(const std::vector<size_t>& which) {
  int64_t now = mono_ns();
  for (auto i : which) {
    auto& w = workers_[i];
    if (w.reaped || w.stop_sent_ns) continue;
    w.stop_sent_ns = now;
    w.slot->stop.store(1, std::memory_order_release);
    futex_wake(&w.slot->go, 1);
    ::kill(w.pid, SIGUSR1);
  }
}

void WorkerSet::collect(std::vector<Reaped>& reaped) {
  std::erase_if(reaped, [&](const Reaped& r) {
    for (size_t i = 0; i < workers_.size(); ++i) {
      auto& w = workers_[i];
      if (w.pid != r.pid || w.reaped) continue;
      w.reaped = true, w.status = r.status, w.usage = r.usage;
      if (!w.killed) w.ended_ns = mono_ns();
      ended_order_.push_back(i);
      return true;
    }
    return false;
  });
  int64_t now = mono_ns();
  for (auto& w : workers_)
    if (!w.reaped && !w.killed && w.stop_sent_ns && now - w.stop_sent_ns >= kKillAfterNs) {
      w.killed = true;
      w.ended_ns = now;
      ::kill(w.pid, SIGKILL);
    }
}

void WorkerSet::stop_and_wait(const std::vector<size_t>& which, std::vector<Reaped>* others) {
  request_stop(which);
  auto pending = [&] {
    return std::any_of(which.begin(), which.end(), [&](size_t i) { return !workers_[i].reaped; });
  };
  while (pending()) {
    auto reaped = reap_children();
    collect(reaped);
    if (others) others->insert(others->end(), reaped.begin(), reaped.end());
    if (pending()) ::usleep(1000);
  }
}

std::vector<size_t> WorkerSet::take_ended() {
  std::vector<size_t> out;
  out.swap(ended_order_);
  return out;
}

protocol::WorkerReport WorkerSet::report(size_t index, int64_t t0_ns) const {
  const Worker& w = workers_[index];
  const WorkerSlot* s = w.slot;
  protocol::WorkerReport r;
  r.id = w.spec.id;
  r.name = w.spec.name;
  r.cgroup = w.spec.cgroup;  // "": the agent's own cgroup
  r.type = std::string(to_string(w.spec.type));
  r.pid = w.pid > 0 ? static_cast<uint32_t>(w.pid) : 0;  // 0: never forked
  bool started = s && s->started_ns != 0;
  bool finished = s && s->finished.load() != 0;
  int64_t start_ns = started ? s->started_ns : 0;
  int64_t stop_ns = finished ? s->stopped_ns : w.ended_ns;
  if (started && stop_ns < start_ns) stop_ns = start_ns;
  // A worker that never started reports 0 for both (its exit says why).
  r.started_ms = started ? static_cast<double>(whole_ms(start_ns - t0_ns)) : 0;
  r.stopped_ms = started ? static_cast<double>(whole_ms(stop_ns - t0_ns)) : 0;
  int64_t wall_ns = started ? stop_ns - start_ns : 0;
  int64_t cpu_ns = s ? s->cpu_ns : 0;
  if (w.killed) {  // never published its final numbers: the kernel's count is better
    int64_t ru = (w.usage.ru_utime.tv_sec + w.usage.ru_stime.tv_sec) * 1'000'000'000LL +
                 (w.usage.ru_utime.tv_usec + w.usage.ru_stime.tv_usec) * 1000LL;
    cpu_ns = std::max(cpu_ns, ru);
  }
  auto cpus = [](const std::vector<int>& list) { return std::vector<uint32_t>(list.begin(), list.end()); };
  r.work_units = s ? s->work_units : 0;
  r.cpu_ms = ms(cpu_ns);
  r.wall_ms = ms(wall_ns);
  r.off_cpu_ms = ms(std::max<int64_t>(0, wall_ns - cpu_ns));
  r.migrations = s ? s->migrations : 0;
  if (s) r.cpus_used = cpus(s->cpus_used.list());
  bool gap = s && s->gap.max_gap_cpu >= 0 && s->gap.max_gap_ns > 0;
  r.max_gap_ms = gap ? ms(s->gap.max_gap_ns) : 0.0;
  if (gap) {
    r.max_gap_at_ms = ms(s->gap.max_gap_at_ns - t0_ns);
    r.max_gap_cpu = static_cast<uint32_t>(s->gap.max_gap_cpu);
  }
  if (measures_wake_latency(w.spec.type) && s)
    r.wake_latency_us = protocol::WakeLatency{s->latency.count, static_cast<double>(s->latency.percentile(0.50)),
                                              static_cast<double>(s->latency.percentile(0.99)),
                                              static_cast<double>(s->latency.max)};
  if (s && s->schedstat_ok)
    r.schedstat = protocol::SchedStat{s->schedstat_last.run_ns - s->schedstat_start.run_ns,
                                      s->schedstat_last.wait_ns - s->schedstat_start.wait_ns,
                                      s->schedstat_last.timeslices - s->schedstat_start.timeslices};
  const auto& iso = s ? s->isolation : IsolationTracker{};
  r.isolation.violations = iso.violations;
  if (iso.violations > 0) {
    r.isolation.first_cpu = static_cast<uint32_t>(iso.first_cpu);
    r.isolation.first_at_ms = ms(iso.first_at_ns - t0_ns);
    r.isolation.first_allowed = cpus(iso.first_allowed.list());
  }
  std::string exit = "ok";
  if (!w.launch_error.empty())
    exit = "error: " + w.launch_error;
  else if (w.killed)
    exit = "killed";
  else if (s && s->error[0])
    exit = std::string("error: ") + std::string(s->error, strnlen(s->error, sizeof s->error));
  else if (WIFSIGNALED(w.status))
    exit = "error: killed by signal " + std::to_string(WTERMSIG(w.status));
  else if (WIFEXITED(w.status) && WEXITSTATUS(w.status) != 0)
    exit = "error: exit status " + std::to_string(WEXITSTATUS(w.status));
  else if (!w.stop_sent_ns)
    exit = "error: exited before the stop";
  r.exit = exit == "ok" ? protocol::WorkerExit::ok : exit == "killed" ? protocol::WorkerExit::killed : protocol::WorkerExit::error;
  r.exit_text = exit;
  return r;
}

std::optional<size_t> WorkerSet::find(uint32_t id) const {
  for (size_t i = 0; i < workers_.size(); ++i)
    if (workers_[i].spec.id == id) return i;
  return std::nullopt;
}

std::vector<size_t> WorkerSet::live() const {
  std::vector<size_t> out;
  for (size_t i = 0; i < workers_.size(); ++i)
    if (!workers_[i].reaped) out.push_back(i);
  return out;
}

std::vector<size_t> WorkerSet::live_in(const std::string& cgroup) const {
  std::vector<size_t> out;
  for (size_t i = 0; i < workers_.size(); ++i)
    if (!workers_[i].reaped && workers_[i].cgroup == cgroup) out.push_back(i);
  return out;
}

}  // namespace ktstr::agent
