#pragma once
// Splitting text on one separator, the one helper for paths, subjects and lists. Views point into
// the input, which must outlive them.

#include <string_view>
#include <vector>

namespace natsfn {

enum class EmptyParts { keep, drop };

inline std::vector<std::string_view> split(std::string_view text, char sep,
                                           EmptyParts empty = EmptyParts::keep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(sep, start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start || empty == EmptyParts::keep) parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

}  // namespace natsfn
