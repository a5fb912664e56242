#pragma once
// Standard base64 (RFC 4648 §4, '+' '/' and padding), as API Gateway uses it for binary bodies.

#include <optional>
#include <string>
#include <string_view>

namespace natsfn {

std::string base64_encode(std::string_view bytes);
// Accepts padded or unpadded text in either alphabet; nullopt on anything else.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace natsfn
