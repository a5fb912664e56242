#pragma once
// Human tables by default, JSON with --json; a progress line on a terminal for long transfers.

#include <cstdint>
#include <string>
#include <vector>

namespace natsfn::cli {

void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows);
std::string human_bytes(uint64_t bytes);

// Shows "label  12.0 MiB / 64.0 MiB  18%" on stderr, redrawn in place, only when stderr is a
// terminal; finish() ends the line.
class ProgressLine {
 public:
  explicit ProgressLine(std::string label);
  void update(uint64_t done, uint64_t total);
  void finish();

 private:
  std::string label_;
  bool tty_;
  int last_percent_ = -1;
  uint64_t last_done_ = 0;
  bool drawn_ = false;
};

}  // namespace natsfn::cli
