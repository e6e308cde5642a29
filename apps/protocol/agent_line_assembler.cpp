#include "apps/protocol/agent_line_assembler.hpp"

namespace ktstr::protocol {

std::vector<GuestLine> LineAssembler::feed(std::string_view bytes) {
  std::vector<GuestLine> out;
  while (!bytes.empty()) {
    auto newline = bytes.find('\n');
    auto piece = bytes.substr(0, newline);
    line_bytes_ += piece.size();
    if (!dropping_ && partial_.size() + piece.size() > max_line_bytes_) {
      dropping_ = true;
      partial_.clear();
      partial_.shrink_to_fit();
    }
    if (!dropping_) partial_.append(piece);
    if (newline == std::string_view::npos) break;
    complete_line(out);
    bytes.remove_prefix(newline + 1);
  }
  return out;
}

std::vector<GuestLine> LineAssembler::finish() {
  std::vector<GuestLine> out;
  if (line_bytes_ > 0) {
    out.push_back(dropping_ ? GuestLine{{}, GuestLine::Fault::overlong, line_bytes_}
                            : GuestLine{std::move(partial_), GuestLine::Fault::unterminated, line_bytes_});
  }
  partial_.clear();
  dropping_ = false;
  line_bytes_ = 0;
  return out;
}

void LineAssembler::complete_line(std::vector<GuestLine>& out) {
  if (dropping_) {
    out.push_back({{}, GuestLine::Fault::overlong, line_bytes_});
  } else {
    if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
    if (!partial_.empty()) out.push_back({std::move(partial_), GuestLine::Fault::none, line_bytes_});
  }
  partial_.clear();
  dropping_ = false;
  line_bytes_ = 0;
}

}  // namespace ktstr::protocol
