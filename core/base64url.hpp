#pragma once
// URL-safe base64 (RFC 4648 §5) as the Object Store uses it: object names become meta subject
// tokens and SHA-256 digests are written as `SHA-256=<base64url>`. nats.go and nats.js v2 both
// write the padded form, so we do too; decoding accepts padded, unpadded and the standard
// alphabet, because other clients have written all three.

#include <optional>
#include <string>
#include <string_view>

namespace natsfn {

// Padded, URL-safe alphabet ('-' and '_').
std::string base64url_encode(std::string_view bytes);

// Accepts '-'/'_' or '+'/'/', with or without '=' padding. nullopt on any other character or an
// impossible length.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace natsfn
