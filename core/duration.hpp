#pragma once
// Durations as people type them in flags and natsfn.json ("3s", "500ms", "1.5s", "2m"), held as
// whole milliseconds everywhere else.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.hpp"

namespace natsfn {

/// Parses "500ms", "3s", "1.5s", "2m" or a plain integer (milliseconds) into milliseconds.
/// Fractions are allowed as long as the result is a whole number of milliseconds ("1.5s" yes,
/// "0.5ms" no). Negative values, other units and surrounding spaces are refused with
/// Errc::invalid_argument: "invalid duration 'x': use a number with ms, s or m".
Result<int64_t> parse_duration(std::string_view text);

/// Formats milliseconds for display in the largest unit that stays exact: 120000 -> "2m",
/// 3000 -> "3s", 1500 -> "1.5s", 250 -> "250ms". parse_duration(format_duration(x)) == x.
std::string format_duration(int64_t ms);

}  // namespace natsfn
