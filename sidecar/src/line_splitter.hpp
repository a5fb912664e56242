#pragma once
// Turns a byte stream (a worker's stdout or stderr) into log lines. A line longer than the cap is
// emitted in pieces so one runaway print cannot grow memory without bound.

#include <functional>
#include <string>
#include <string_view>

namespace natsfn {

class LineSplitter {
 public:
  static constexpr size_t kMaxLine = 16 * 1024;

  template <class Emit>
  void feed(std::string_view data, Emit&& emit) {
    size_t start = 0;
    while (start < data.size()) {
      size_t nl = data.find('\n', start);
      size_t end = nl == std::string_view::npos ? data.size() : nl;
      pending_.append(data.substr(start, end - start));
      if (nl != std::string_view::npos || pending_.size() >= kMaxLine) {
        if (!pending_.empty() && pending_.back() == '\r') pending_.pop_back();
        emit(std::string_view(pending_));
        pending_.clear();
      }
      start = nl == std::string_view::npos ? data.size() : nl + 1;
    }
  }

  template <class Emit>
  void flush(Emit&& emit) {
    if (!pending_.empty()) emit(std::string_view(pending_));
    pending_.clear();
  }

 private:
  std::string pending_;
};

}  // namespace natsfn
