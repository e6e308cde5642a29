#include "apps/cli/kernel/kernel_build.hpp"

#include "apps/cli/base/read_file.hpp"
#include "apps/cli/base/refusal.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <iostream>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "apps/cli/process/child_process.hpp"
#include "apps/cli/base/exit_codes.hpp"
#include "apps/cli/kernel/kbuild_estimate.hpp"
#include "apps/cli/kernel/kconfig.hpp"
#include "apps/cli/kernel/kernel_cache.hpp"
#include "apps/cli/kernel/make_progress.hpp"

namespace ktstr::cli {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::optional<std::string> kernel_version_from_makefile(std::string_view makefile) {
  std::map<std::string, std::string> vars;
  std::istringstream in{std::string(makefile)};
  std::string line;
  for (int n = 0; n < 40 && std::getline(in, line); ++n) {  // they are at the top
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    auto trim = [](std::string s) {
      s.erase(0, s.find_first_not_of(" \t"));
      s.erase(s.find_last_not_of(" \t\r") + 1);
      return s;
    };
    vars[trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
  }
  for (const char* k : {"VERSION", "PATCHLEVEL"})
    if (vars[k].empty()) return std::nullopt;
  std::string v = vars["VERSION"] + "." + vars["PATCHLEVEL"];
  if (!vars["SUBLEVEL"].empty()) v += "." + vars["SUBLEVEL"];
  return v + vars["EXTRAVERSION"];
}

std::string fnv1a64_hex(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

namespace {

/// A failed step: its exit code and the one line that says why.
struct BuildError : std::runtime_error {
  int code;
  BuildError(int c, const std::string& what) : std::runtime_error(what), code(c) {}
};

/// The file's text, "" when it cannot be read (the callers judge what is missing).
std::string read_text(const fs::path& path) { return read_file(path).value_or(""); }

void write_text(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw BuildError(exit_kernel_build, "cannot write " + path.string());
}

/// The top-level Makefile of a kernel tarball, read without unpacking the rest
/// (reading stops at that entry).
std::optional<std::string> makefile_in_tarball(const fs::path& tarball) {
  archive* a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_all(a);
  std::optional<std::string> out;
  if (archive_read_open_filename(a, tarball.c_str(), 1 << 16) == ARCHIVE_OK) {
    archive_entry* e;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
      std::string path = archive_entry_pathname(e);
      if (path.rfind("./", 0) == 0) path.erase(0, 2);
      auto slash = path.find('/');
      if (slash == std::string::npos || path.substr(slash + 1) != "Makefile") {
        archive_read_data_skip(a);
        continue;
      }
      std::string text;
      char buf[8192];
      la_ssize_t n;
      while ((n = archive_read_data(a, buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
      out = std::move(text);
      break;
    }
  }
  archive_read_free(a);
  return out;
}

std::string utc_now_iso() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string local_stamp() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
  return buf;
}

bool pid_alive(pid_t pid) { return ::kill(pid, 0) == 0 || errno == EPERM; }

/// Leftovers of interrupted builds of this name (their process is gone): removed.
void remove_stale(const fs::path& dir, const std::string& prefix) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string f = e.path().filename().string();
    if (f.rfind(prefix, 0) != 0) continue;
    pid_t pid = static_cast<pid_t>(std::atol(f.c_str() + prefix.size()));
    if (pid > 0 && pid != ::getpid() && pid_alive(pid)) continue;
    spdlog::info("kernel build: removing {} (left by an earlier failed or interrupted build)", e.path().string());
    fs::remove_all(e.path(), ec);
  }
}

bool entry_complete(const fs::path& dir, bool want_schedulers) {
  std::error_code ec;
  for (const char* f : {"bzImage", "config", "build.json"})
    if (!fs::is_regular_file(dir / f, ec)) return false;
  if (want_schedulers && fs::is_empty(dir / "sched", ec)) return false;
  return !(want_schedulers && ec);
}

std::vector<std::string> last_lines(const fs::path& log, std::size_t count) {
  std::ifstream in(log);
  std::deque<std::string> tail;
  std::string line;
  while (std::getline(in, line)) {
    tail.push_back(line);
    if (tail.size() > count) tail.pop_front();
  }
  return {tail.begin(), tail.end()};
}

unsigned online_cpus() {
  long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<unsigned>(n) : 1;
}

/// The compile count of an earlier build of the same version and fragment, if cached.
std::optional<std::size_t> previous_object_count(const fs::path& kernels, const std::string& version,
                                                 const std::string& fragment_hash) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(kernels, ec)) {
    auto j = nlohmann::json::parse(read_text(e.path() / "build.json"), nullptr, false);
    if (!j.is_object() || j.value("version", "") != version || j.value("fragment_fnv1a64", "") != fragment_hash)
      continue;
    auto n = j.value("compiled_objects", std::size_t{0});
    if (n > 0) return n;
  }
  return std::nullopt;
}

class Builder {
 public:
  Builder(const KernelBuildOptions& o) : opt_(o) {}
  int run();

 private:
  // Output channels (base/refusal.hpp): the build's steps go to the log (spdlog), what it
  // produced to stdout, a failure in one "ktstr-actors: kernel build: ..." line.
  void progress(const std::string& line) { spdlog::info("{}", line); }
  void say(const std::string& line) { std::cout << line << std::endl; }
  void step(const std::string& title);
  /// Runs argv (argv[0] looked up in PATH), output into the log; each line also to on_line.
  void run_logged(const std::vector<std::string>& argv, const std::function<void(std::string_view)>& on_line = {});
  void check_tools();
  void resolve_source();
  void unpack();
  void configure();
  void build_bzimage();
  void collect();
  void build_schedulers();
  void finish();

  KernelBuildOptions opt_;
  fs::path cache_, kernels_, entry_, staging_, build_parent_, tree_, log_, fragment_file_;
  std::string version_, fragment_text_, fragment_hash_, fragment_label_;
  bool source_is_tarball_ = false;
  int log_fd_ = -1;
  int step_no_ = 0, steps_ = 0;
  Clock::time_point start_ = Clock::now();
  double make_seconds_ = 0;
  std::size_t compiled_ = 0;
  bool btf_ = false;
  std::vector<std::string> scheds_;
  std::string release_;
};

void Builder::step(const std::string& title) {
  ++step_no_;
  progress("[" + std::to_string(step_no_) + "/" + std::to_string(steps_) + "] " + title + "  (" +
      format_duration(std::chrono::duration<double>(Clock::now() - start_).count()) + ")");
}

void Builder::run_logged(const std::vector<std::string>& argv, const std::function<void(std::string_view)>& on_line) {
  std::string header = "\n=== $";
  for (const auto& a : argv) header += " " + a;
  header += "\n";
  [[maybe_unused]] auto w = ::write(log_fd_, header.data(), header.size());
  auto program = argv[0].find('/') == std::string::npos ? find_in_path(argv[0]) : std::optional<fs::path>(argv[0]);
  if (!program) throw BuildError(exit_kernel_source, argv[0] + " not found in PATH");
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) throw BuildError(exit_kernel_build, "pipe failed");
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t pid;
  try {
    pid = spawn_process(*program, argv, {{0, devnull}, {1, pipefd[1]}, {2, pipefd[1]}});
  } catch (const std::exception& e) {
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    ::close(devnull);
    throw BuildError(exit_kernel_build, e.what());
  }
  ::close(pipefd[1]);
  ::close(devnull);
  std::string pending;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(pipefd[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    [[maybe_unused]] auto lw = ::write(log_fd_, buf, static_cast<std::size_t>(n));
    if (!on_line) continue;
    pending.append(buf, static_cast<std::size_t>(n));
    std::size_t pos = 0, nl;
    while ((nl = pending.find('\n', pos)) != std::string::npos) {
      on_line(std::string_view(pending).substr(pos, nl - pos));
      pos = nl + 1;
    }
    pending.erase(0, pos);
  }
  if (on_line && !pending.empty()) on_line(pending);
  ::close(pipefd[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string how = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                        : "signal " + std::to_string(WTERMSIG(status));
    std::string cmd;
    for (std::size_t i = 0; i < argv.size() && i < 4; ++i) cmd += (i ? " " : "") + argv[i];
    throw BuildError(exit_kernel_build, "`" + cmd + (argv.size() > 4 ? " ..." : "") + "` failed (" + how + ")");
  }
}

void Builder::check_tools() {
  // What a kernel build with BTF needs (scripts/setup.sh --kernel-build installs them).
  std::vector<std::string> tools{"make", "gcc", "flex", "bison", "bc", "pahole", "objcopy", "env"};
  if (source_is_tarball_) tools.push_back("tar");
  if (opt_.schedulers) {
    tools.push_back("clang-19");
    tools.push_back("llvm-strip-19");
  }
  std::string missing;
  for (const auto& t : tools)
    if (!find_in_path(t)) missing += " " + t;
  if (!missing.empty())
    throw BuildError(exit_kernel_source,
                     "missing kernel build tools:" + missing + " (run `scripts/setup.sh --kernel-build`)");
}

void Builder::resolve_source() {
  std::error_code ec;
  if (!fs::exists(opt_.source, ec))
    throw BuildError(exit_kernel_source, "kernel source " + opt_.source.string() +
                                             " not found: run `scripts/setup.sh --kernel-build` "
                                             "(installs linux-source-6.12 and the build tools) or pass --source");
  opt_.source = fs::absolute(opt_.source);
  source_is_tarball_ = !fs::is_directory(opt_.source, ec);
  std::optional<std::string> makefile =
      source_is_tarball_ ? makefile_in_tarball(opt_.source) : std::optional<std::string>(read_text(opt_.source / "Makefile"));
  auto version = makefile ? kernel_version_from_makefile(*makefile) : std::nullopt;
  if (!version)
    throw BuildError(exit_kernel_source, "no kernel Makefile with VERSION/PATCHLEVEL in " + opt_.source.string());
  version_ = *version;
  if (opt_.name.empty()) opt_.name = "linux-" + version_ + "-scx";
}

void Builder::unpack() {
  step("unpacking " + opt_.source.string());
  fs::path into = build_parent_ / "src";
  fs::create_directories(into);
  if (source_is_tarball_)
    run_logged({"tar", "-C", into.string(), "-xf", opt_.source.string()});
  else
    run_logged({"cp", "-a", (opt_.source / ".").string(), (into / "tree").string()});
  for (const auto& e : fs::directory_iterator(into))
    if (e.is_directory() && fs::exists(e.path() / "Makefile")) tree_ = e.path();
  if (tree_.empty()) throw BuildError(exit_kernel_build, "no kernel tree (top-level Makefile) in " + opt_.source.string());
}

void Builder::configure() {
  step("configuring: x86_64_defconfig + kvm_guest.config + " + fragment_label_);
  run_logged({"make", "-C", tree_.string(), "x86_64_defconfig"});
  run_logged({"env", "-C", tree_.string(), "./scripts/kconfig/merge_config.sh", "-m", ".config",
              "kernel/configs/kvm_guest.config", fragment_file_.string()});
  run_logged({"make", "-C", tree_.string(), "olddefconfig"});
  Kconfig config = parse_kconfig(read_text(tree_ / ".config"));
  auto mismatches = verify_fragment(parse_kconfig(fragment_text_), config);
  std::string dropped;
  for (const auto& m : mismatches) {
    if (m.required)
      dropped += "\n  " + describe(m);
    else
      progress("  note: " + describe(m) + ": something selects it");
  }
  if (!dropped.empty())
    throw BuildError(exit_kernel_config, "`make olddefconfig` dropped fragment symbols (unmet Kconfig dependencies):" +
                                             dropped + "\n  final config: " + (tree_ / ".config").string());
  progress("  config has every symbol of the fragment" +
      std::string(has_sched_ext(config) ? " (CONFIG_SCHED_CLASS_EXT=y)" : ""));
}

void Builder::build_bzimage() {
  step("make -j" + std::to_string(opt_.jobs) + " bzImage (about 36 min on 2 cores)");
  auto previous = previous_object_count(kernels_, version_, fragment_hash_);
  // The denominator: the previous build's count, else an estimate from the Kbuild
  // makefiles and the final .config.
  std::size_t expected =
      previous ? *previous : estimate_kbuild_objects(tree_, parse_kconfig(read_text(tree_ / ".config")));
  MakeProgress progress(expected, !previous);
  const bool tty = ::isatty(2);
  const auto t0 = Clock::now();
  auto last_shown = t0;
  auto show = [&](bool final) {
    double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    std::string line = "  " + progress.render(elapsed);
    if (tty) {
      if (line.size() > 150) line.resize(150);
      std::cerr << "\r" << line << "\x1b[K" << (final ? "\n" : "") << std::flush;
    } else {
      std::cerr << line << "\n";
    }
  };
  run_logged({"make", "-C", tree_.string(), "-j" + std::to_string(opt_.jobs), "bzImage"}, [&](std::string_view l) {
    if (!progress.feed(l)) return;
    auto now = Clock::now();
    if (now - last_shown >= (tty ? std::chrono::milliseconds(500) : std::chrono::milliseconds(60000))) {
      last_shown = now;
      show(false);
    }
  });
  show(true);
  make_seconds_ = std::chrono::duration<double>(Clock::now() - t0).count();
  compiled_ = progress.compiled();
}

void Builder::collect() {
  step("collecting bzImage, config and BTF");
  fs::path bz = tree_ / "arch/x86/boot/bzImage";
  if (!fs::is_regular_file(bz)) throw BuildError(exit_kernel_build, "make finished but " + bz.string() + " is missing");
  fs::copy_file(bz, staging_ / "bzImage");
  fs::copy_file(tree_ / ".config", staging_ / "config");
  write_text(staging_ / "fragment.config", fragment_text_);
  // BTF: the .BTF section of vmlinux (what /sys/kernel/btf/vmlinux shows in the guest).
  fs::path vmlinux = tree_ / "vmlinux", btf = staging_ / "vmlinux.btf";
  try {
    run_logged({"objcopy", "-O", "binary", "--only-section=.BTF", vmlinux.string(), btf.string()});
  } catch (const BuildError&) {
  }
  std::error_code ec;
  btf_ = fs::is_regular_file(btf, ec) && fs::file_size(btf, ec) > 0;
  if (btf_) {
    progress("  vmlinux.btf: " + std::to_string(fs::file_size(btf) / 1024) + " KiB");
  } else {
    fs::remove(btf, ec);
    progress("  no BTF: vmlinux has no .BTF section (is pahole installed and CONFIG_DEBUG_INFO_BTF=y?)");
  }
  std::string release = read_text(tree_ / "include/config/kernel.release");
  release.erase(release.find_last_not_of(" \n\r\t") + 1);
  release_ = release.empty() ? version_ : release;
}

void Builder::build_schedulers() {
  step("make -C tools/sched_ext (clang-19)");
  run_logged({"make", "-C", (tree_ / "tools/sched_ext").string(), "-j" + std::to_string(opt_.jobs), "CLANG=clang-19",
              "LLVM_STRIP=llvm-strip-19"});
  fs::create_directories(staging_ / "sched");
  std::error_code ec;
  for (fs::recursive_directory_iterator it(tree_ / "tools/sched_ext", ec), end; !ec && it != end; it.increment(ec)) {
    std::string f = it->path().filename().string();
    if (f.rfind("scx_", 0) != 0 || !it->is_regular_file() || it->path().has_extension()) continue;
    if (::access(it->path().c_str(), X_OK) != 0 || fs::exists(staging_ / "sched" / f)) continue;
    fs::copy_file(it->path(), staging_ / "sched" / f);
    scheds_.push_back(f);
  }
  std::sort(scheds_.begin(), scheds_.end());
  if (scheds_.empty()) throw BuildError(exit_kernel_build, "tools/sched_ext built no scx_* binaries");
  std::string list;
  for (const auto& s : scheds_) list += " " + s;
  progress("  schedulers:" + list);
}

void Builder::finish() {
  double total = std::chrono::duration<double>(Clock::now() - start_).count();
  nlohmann::json j{
      {"name", opt_.name},
      {"version", version_},
      {"release", release_},
      {"source", opt_.source.string()},
      {"fragment", fragment_label_},
      {"fragment_fnv1a64", fragment_hash_},
      {"build_seconds", std::round(total * 10) / 10},
      {"make_seconds", std::round(make_seconds_ * 10) / 10},
      {"jobs", opt_.jobs},
      {"compiled_objects", compiled_},
      {"date", utc_now_iso()},
      {"make_log", log_.string()},
      {"btf", btf_},
      {"schedulers", scheds_},
      {"sched_ext", has_sched_ext(parse_kconfig(read_text(staging_ / "config")))},
  };
  write_text(staging_ / "build.json", j.dump(2) + "\n");
  // The entry appears at once and complete: an interrupted build leaves only the staging
  // directory (removed by the next build), never a half-filled entry.
  std::error_code ec;
  fs::path old = kernels_ / ("." + opt_.name + ".old-" + std::to_string(::getpid()));
  if (fs::exists(entry_, ec)) fs::rename(entry_, old);
  fs::rename(staging_, entry_);
  fs::remove_all(old, ec);
  fs::remove_all(build_parent_, ec);
  say("built " + opt_.name + " (" + release_ + ") in " + format_duration(total) + " (make bzImage " +
      format_duration(make_seconds_) + ", " + std::to_string(compiled_) + " objects, -j" + std::to_string(opt_.jobs) +
      ")");
  say("cached at " + entry_.string());
  say("use it with: ktstr-actors run --kernel " + opt_.name);
}

int Builder::run() {
  cache_ = opt_.cache_dir;
  kernels_ = cache_ / "kernels";
  if (opt_.jobs == 0) opt_.jobs = online_cpus();
  if (!opt_.name.empty() && (opt_.name.find('/') != std::string::npos || opt_.name[0] == '.')) {
    return refuse(exit_usage, "kernel build: --name must be a plain name (no '/', no leading '.')");
  }
  if (opt_.fragment.empty()) {
    fragment_text_ = std::string(builtin_kernel_fragment());
    fragment_label_ = "kernel-config/sched_ext.config (built in)";
  } else {
    std::error_code ec;
    if (!fs::is_regular_file(opt_.fragment, ec)) {
      return refuse(exit_usage, "kernel build: fragment " + opt_.fragment.string() + " does not exist");
    }
    fragment_text_ = read_text(opt_.fragment);
    fragment_label_ = fs::absolute(opt_.fragment).string();
  }
  fragment_hash_ = fnv1a64_hex(fragment_text_);

  try {
    // With --name, a cached entry is found without reading the source (which may be gone).
    if (opt_.name.empty()) resolve_source();
    entry_ = kernels_ / opt_.name;
    std::error_code ec;
    if (fs::exists(fs::symlink_status(entry_, ec)) && !fs::is_regular_file(entry_ / "build.json", ec)) {
      return refuse(exit_usage,
                    "kernel build: " + entry_.string() + " exists and was not built by `kernel build`; choose another --name");
    }
    if (!opt_.force && entry_complete(entry_, opt_.schedulers)) {
      auto j = nlohmann::json::parse(read_text(entry_ / "build.json"), nullptr, false);
      std::string when = j.is_object() ? j.value("date", "?") : "?";
      double secs = j.is_object() ? j.value("build_seconds", 0.0) : 0.0;
      say("kernel " + opt_.name + " is already cached at " + entry_.string() + " (built " + when + " in " +
          format_duration(secs) + "); --force rebuilds it");
      if (j.is_object() && j.value("fragment_fnv1a64", "") != fragment_hash_)
        say("  note: it was built with a different fragment (" + j.value("fragment", "?") + ")");
      say("use it with: ktstr-actors run --kernel " + opt_.name);
      return exit_pass;
    }
    if (version_.empty()) resolve_source();
    check_tools();

    fs::create_directories(kernels_);
    fs::create_directories(cache_ / "build");
    fs::create_directories(cache_ / "logs");
    remove_stale(kernels_, "." + opt_.name + ".tmp-");
    remove_stale(kernels_, "." + opt_.name + ".old-");
    remove_stale(cache_ / "build", opt_.name + ".tmp-");
    const std::string pid = std::to_string(::getpid());
    staging_ = kernels_ / ("." + opt_.name + ".tmp-" + pid);
    build_parent_ = cache_ / "build" / (opt_.name + ".tmp-" + pid);
    fs::create_directories(staging_);
    fs::create_directories(build_parent_);
    fragment_file_ = build_parent_ / "fragment.config";
    write_text(fragment_file_, fragment_text_);
    log_ = cache_ / "logs" / (opt_.name + "-" + local_stamp() + ".log");
    log_fd_ = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd_ < 0) throw BuildError(exit_kernel_build, "cannot create " + log_.string());

    steps_ = opt_.schedulers ? 5 : 4;
    progress("kernel build: " + opt_.name + " from " + opt_.source.string() + " (Linux " + version_ + "), -j" +
        std::to_string(opt_.jobs));
    progress("make log: " + log_.string());
    unpack();
    configure();
    build_bzimage();
    collect();
    if (opt_.schedulers) build_schedulers();
    finish();
    ::close(log_fd_);
    return exit_pass;
  } catch (const BuildError& e) {
    if (log_fd_ >= 0) {
      ::close(log_fd_);
      if (e.code != exit_kernel_config) {
        spdlog::error("last lines of {}:", log_.string());
        for (const auto& l : last_lines(log_, 20)) spdlog::error("  | {}", l);
      }
      spdlog::info("build tree kept for inspection at {} (the next build of this name removes it)",
                   build_parent_.string());
    }
    refuse(e.code, std::string("kernel build: ") + e.what());
    std::error_code ec;
    if (!staging_.empty()) fs::remove_all(staging_, ec);
    return e.code;
  } catch (const std::exception& e) {
    refuse(exit_kernel_build, std::string("kernel build: ") + e.what());
    if (log_fd_ >= 0) ::close(log_fd_);
    std::error_code ec;
    if (!staging_.empty()) fs::remove_all(staging_, ec);
    return exit_kernel_build;
  }
}

}  // namespace

int kernel_build_main(const KernelBuildOptions& options) { return Builder(options).run(); }

}  // namespace ktstr::cli
