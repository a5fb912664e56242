#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace natsfn::telnet {

/// Renders bytes for a diagnostic: printable ASCII stays, \r \n \t \\ \" are escaped and every
/// other byte becomes \xHH. Output longer than max_chars is cut and says how many bytes it had.
std::string escape_bytes(std::string_view bytes, std::size_t max_chars = 400);

/// Decodes hex digits ("00 ff 41" or "00ff41"; whitespace between bytes is ignored). Returns
/// nullopt on a non-hex character or an odd number of digits.
std::optional<std::string> decode_hex(std::string_view text);

}  // namespace natsfn::telnet
