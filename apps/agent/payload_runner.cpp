#include "payload_runner.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "workers/worker_context.hpp"

namespace ktstr::agent {

using protocol::PayloadReport;
using protocol::PayloadSpec;

PayloadSet::PayloadSet(Cgroups* cgroups, std::vector<PayloadSpec> specs) : cgroups_(cgroups) {
  for (auto& s : specs) payloads_.push_back(Payload{std::move(s)});
}

PayloadSet::~PayloadSet() {
  for (auto& p : payloads_)
    if (p.started && !p.ended && p.pid > 0) {
      ::kill(-p.pid, SIGKILL);
      ::waitpid(p.pid, nullptr, 0);
    }
}

void PayloadSet::start_due(int64_t t0_ns, int64_t now_ns) {
  for (auto& p : payloads_)
    if (!p.started && now_ns >= t0_ns + static_cast<int64_t>(p.spec.start_ms) * 1'000'000) start(p, now_ns);
}

void PayloadSet::start(Payload& p, int64_t now_ns) {
  p.started = true;
  p.started_ns = now_ns;
  auto fail = [&](std::string why) {
    p.error = std::move(why);
    p.ended = true;
    p.ended_ns = mono_ns();
  };
  int out[2], go[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return fail(std::string("pipe: ") + std::strerror(errno));
  if (::pipe2(go, O_CLOEXEC) != 0) {
    ::close(out[0]), ::close(out[1]);
    return fail(std::string("pipe: ") + std::strerror(errno));
  }
  // Everything the child needs is built before fork: after it, only async-signal-safe calls.
  std::vector<std::string> args = {p.spec.path};
  args.insert(args.end(), p.spec.args.begin(), p.spec.args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string dir = p.spec.path.substr(0, p.spec.path.rfind('/'));
  std::string path_env = "PATH=" + dir + ":/usr/sbin:/usr/bin:/sbin:/bin";
  char home[] = "HOME=/tmp";
  char* envp[] = {path_env.data(), home, nullptr};
  std::string exec_failed = "exec " + p.spec.path + ": ";

  pid_t pid = ::fork();
  if (pid < 0) {
    for (int fd : {out[0], out[1], go[0], go[1]}) ::close(fd);
    return fail(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int s = 1; s < NSIG; ++s) ::signal(s, SIG_DFL);
    char byte;
    while (::read(go[0], &byte, 1) < 0 && errno == EINTR) {
    }  // in its cgroup once the parent writes (or closes: then it runs where it is)
    int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, 0);
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    [[maybe_unused]] int in_tmp = ::chdir("/tmp");
    ::execve(argv[0], argv.data(), envp);
    const char* why = std::strerror(errno);
    [[maybe_unused]] auto a = ::write(2, exec_failed.data(), exec_failed.size());
    [[maybe_unused]] auto b = ::write(2, why, std::strlen(why));
    [[maybe_unused]] auto c = ::write(2, "\n", 1);
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also here: no race with a kill(-pid) before the child ran
  ::close(out[1]);
  ::close(go[0]);
  p.pid = pid;
  p.output = std::make_unique<ChildOutput>(kTailLines, kLineBytes);
  p.output->start(out[0]);
  if (!p.spec.cgroup.empty()) {
    auto errors = cgroups_->move(p.spec.cgroup, pid);
    if (!errors.empty()) {
      p.error = "cgroup " + p.spec.cgroup + ": " + errors.front();
      ::kill(-pid, SIGKILL);
    }
  }
  char byte = 1;
  [[maybe_unused]] auto n = ::write(go[1], &byte, 1);
  ::close(go[1]);
}

void PayloadSet::consume(std::vector<Reaped>& reaped) {
  std::erase_if(reaped, [&](const Reaped& r) {
    for (auto& p : payloads_) {
      if (p.pid != r.pid || p.ended) continue;
      p.ended = true;
      p.status = r.status;
      p.ended_ns = mono_ns();
      // What else is left in its group (children it did not wait for) goes too.
      ::kill(-p.pid, SIGKILL);
      return true;
    }
    return false;
  });
}

std::vector<PayloadReport> PayloadSet::take_ended(int64_t t0_ns) {
  auto ms = [&](int64_t ns) { return std::round(static_cast<double>(std::max<int64_t>(ns - t0_ns, 0)) / 1e5) / 10.0; };
  std::vector<PayloadReport> out;
  for (auto& p : payloads_) {
    if (!p.ended || p.reported) continue;
    p.reported = true;
    PayloadReport r;
    r.id = p.spec.id;
    r.name = p.spec.name;
    if (p.pid > 0) r.pid = static_cast<uint32_t>(p.pid);
    r.started_ms = ms(p.started_ns);
    r.ended_ms = ms(p.ended_ns);
    r.stopped = p.stopped;
    r.error = p.error;
    if (p.pid > 0) {
      if (WIFSIGNALED(p.status)) r.signal = static_cast<uint32_t>(WTERMSIG(p.status));
      else r.exit_code = static_cast<uint32_t>(WEXITSTATUS(p.status));
    }
    if (p.output) {
      p.output->stop();  // it ended: the pipe's end of file is near, or its group is gone
      r.output = p.output->lines();
    }
    out.push_back(std::move(r));
  }
  return out;
}

bool PayloadSet::all_ended() const {
  return std::all_of(payloads_.begin(), payloads_.end(), [](const Payload& p) { return p.started && p.ended; });
}

void PayloadSet::stop_all(std::vector<Reaped>* others) {
  const int64_t now = mono_ns();
  for (auto& p : payloads_) {
    if (!p.started) {  // due after the scenario's end: never ran
      p.started = p.ended = p.stopped = true;
      p.started_ns = p.ended_ns = now;
      p.error = "not started: the scenario ended first";
      continue;
    }
    if (p.ended) continue;
    p.stopped = true;
    ::kill(-p.pid, SIGTERM);
  }
  const int64_t deadline = now + kKillAfterNs;
  bool killed = false;
  for (;;) {
    auto reaped = reap_children();
    consume(reaped);
    if (others) others->insert(others->end(), reaped.begin(), reaped.end());
    if (all_ended()) break;
    if (!killed && mono_ns() >= deadline) {
      for (auto& p : payloads_)
        if (!p.ended) ::kill(-p.pid, SIGKILL);
      killed = true;
    }
    ::usleep(5000);
  }
}

}  // namespace ktstr::agent
