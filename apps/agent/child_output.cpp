#include "child_output.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>

namespace ktstr::agent {

namespace {
constexpr size_t kRunawayLineBytes = 4096;  // a line without '\n' this long is cut
}

ChildOutput::ChildOutput(size_t tail_lines, size_t line_bytes, int console_fd, std::string console_prefix)
    : tail_lines_(tail_lines), line_bytes_(line_bytes), console_fd_(console_fd), prefix_(std::move(console_prefix)) {}

ChildOutput::~ChildOutput() { stop(); }

void ChildOutput::start(int fd) {
  reader_ = std::thread([this, fd] { read_loop(fd); });
}

void ChildOutput::stop() {
  stop_ = true;
  if (reader_.joinable()) reader_.join();
}

void ChildOutput::add_line(std::string line) {
  if (auto cr = line.find_last_of('\r'); cr != std::string::npos) {
    // "a\r" (CRLF) keeps "a"; "a\rb" keeps "b", as a terminal shows it.
    if (cr + 1 == line.size()) line.pop_back();
    if (auto again = line.find_last_of('\r'); again != std::string::npos) line.erase(0, again + 1);
  }
  if (console_fd_ >= 0) {
    std::string copy = prefix_ + line + "\n";
    [[maybe_unused]] auto n = ::write(console_fd_, copy.data(), copy.size());
  }
  if (line.size() > line_bytes_) line.resize(line_bytes_);
  std::lock_guard lock(mutex_);
  tail_.push_back(std::move(line));
  while (tail_.size() > tail_lines_) tail_.pop_front();
}

void ChildOutput::feed(std::string_view bytes) {
  partial_.append(bytes);
  for (size_t nl; (nl = partial_.find('\n')) != std::string::npos; partial_.erase(0, nl + 1))
    add_line(partial_.substr(0, nl));
  if (partial_.size() > kRunawayLineBytes) {
    add_line(std::move(partial_));
    partial_.clear();
  }
}

void ChildOutput::flush() {
  if (!partial_.empty()) add_line(std::move(partial_));
  partial_.clear();
}

void ChildOutput::read_loop(int fd) {
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, 100);
    if (r == 0) {
      if (stop_) break;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    feed(std::string_view(buf, static_cast<size_t>(n)));
  }
  flush();
  ::close(fd);
}

std::vector<std::string> ChildOutput::lines() const {
  std::lock_guard lock(mutex_);
  return {tail_.begin(), tail_.end()};
}

}  // namespace ktstr::agent
