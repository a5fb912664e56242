#include "cli/output.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace natsfn::cli {

void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (auto& r : rows)
    for (size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t i = 0; i < cells.size(); ++i) {
      out += cells[i];
      if (i + 1 < cells.size()) out += std::string(width[i] - cells[i].size() + 2, ' ');
    }
    std::puts(out.c_str());
  };
  line(header);
  for (auto& r : rows) line(r);
}

std::string human_bytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0)
    snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  else
    snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

ProgressLine::ProgressLine(std::string label) : label_(std::move(label)), tty_(isatty(2) != 0) {}

void ProgressLine::update(uint64_t done, uint64_t total) {
  if (!tty_) return;
  int percent = total > 0 ? static_cast<int>(done * 100 / total) : -1;
  // Redraw when the percentage moves, or every 4 MiB when the total is unknown.
  if (percent == last_percent_ && (total > 0 || done - last_done_ < (4u << 20))) return;
  last_percent_ = percent;
  last_done_ = done;
  drawn_ = true;
  if (total > 0)
    fprintf(stderr, "\r%s  %s / %s  %3d%%", label_.c_str(), human_bytes(done).c_str(),
            human_bytes(total).c_str(), percent);
  else
    fprintf(stderr, "\r%s  %s", label_.c_str(), human_bytes(done).c_str());
  fflush(stderr);
}

void ProgressLine::finish() {
  if (tty_ && drawn_) fprintf(stderr, "\n");
  drawn_ = false;
}

}  // namespace natsfn::cli
