#pragma once
// What counts as a valid function name, NATS subject and runtime. Each check returns one clear
// message naming the offending value, so the CLI, KV decoding and the sidecar agree.

#include <string>
#include <string_view>

#include "core/status.hpp"

namespace natsfn {

// Function names become subject tokens (natsfn.invoke.<name>) and KV keys: [A-Za-z0-9_-], 1..64.
Status validate_function_name(std::string_view name);
// Package (object) names: printable, no control characters, 1..255 bytes.
Status validate_package_name(std::string_view name);

// A subject a function may be bound to: a valid NATS subject (wildcards allowed) that is not
// system-owned ($…), not an inbox (_INBOX…), not a bare ">" and not under our own natsfn. prefix.
Status validate_binding_subject(std::string_view subject);

// "node", "nodejs", "nodejs20.x" → "node"; "python3.11" → "python"; "provided.al2" → "exec".
// Empty when unknown.
std::string canonical_runtime(std::string_view runtime);

// The canonical subject every function answers on.
std::string invoke_subject(std::string_view function);

}  // namespace natsfn
