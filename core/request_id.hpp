#pragma once
// Lambda-style request ids (UUID v4 text), cheap enough for the hot path: a per-thread PRNG,
// no system call per id.

#include <string>

namespace natsfn {

std::string new_request_id();

}  // namespace natsfn
