#include "core/duration.hpp"

#include <limits>

namespace natsfn {
namespace {

Status invalid(std::string_view text) {
  return Status(Errc::invalid_argument,
                "invalid duration '" + std::string(text) + "': use a number with ms, s or m");
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

Result<int64_t> parse_duration(std::string_view text) {
  // Split "<digits>[.<digits>]<unit>"; everything is integer arithmetic so "1.1s" is exactly 1100
  // rather than whatever a double rounds it to.
  size_t i = 0;
  while (i < text.size() && is_digit(text[i])) ++i;
  std::string_view whole = text.substr(0, i);
  std::string_view fraction;
  if (i < text.size() && text[i] == '.') {
    size_t start = ++i;
    while (i < text.size() && is_digit(text[i])) ++i;
    fraction = text.substr(start, i - start);
    if (fraction.empty()) return invalid(text);
  }
  if (whole.empty()) return invalid(text);
  std::string_view unit = text.substr(i);

  int64_t multiplier = 0;
  if (unit.empty() || unit == "ms") {
    multiplier = 1;
  } else if (unit == "s") {
    multiplier = 1000;
  } else if (unit == "m") {
    multiplier = 60 * 1000;
  } else {
    return invalid(text);
  }

  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  int64_t value = 0;
  for (char c : whole) {
    int digit = c - '0';
    if (value > (kMax - digit) / 10) return invalid(text);
    value = value * 10 + digit;
  }
  if (value > kMax / multiplier) return invalid(text);
  value *= multiplier;

  // The fraction must come out as whole milliseconds: numerator * multiplier / 10^digits exact.
  if (!fraction.empty()) {
    if (fraction.size() > 9) return invalid(text);
    int64_t numerator = 0;
    int64_t denominator = 1;
    for (char c : fraction) {
      numerator = numerator * 10 + (c - '0');
      denominator *= 10;
    }
    int64_t scaled = numerator * multiplier;  // < 10^9 * 60000, fits easily
    if (scaled % denominator != 0) return invalid(text);
    int64_t extra = scaled / denominator;
    if (value > kMax - extra) return invalid(text);
    value += extra;
  }
  return value;
}

std::string format_duration(int64_t ms) {
  // Negative durations are never valid input; show them plainly rather than pretend.
  if (ms < 0) return std::to_string(ms) + "ms";
  if (ms == 0) return "0s";
  if (ms % 60000 == 0) return std::to_string(ms / 60000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  if (ms < 1000) return std::to_string(ms) + "ms";
  std::string fraction = std::to_string(ms % 1000);
  fraction.insert(0, 3 - fraction.size(), '0');
  while (fraction.back() == '0') fraction.pop_back();
  return std::to_string(ms / 1000) + "." + fraction + "s";
}

}  // namespace natsfn
