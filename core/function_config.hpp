#pragma once
// A function as stored in KV bucket natsfn_functions (key = function name): which package at
// which pinned digest, how to run it, and its limits.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace natsfn {

struct FunctionConfig {
  std::string name;
  std::string package;
  std::string digest;  // "SHA-256=<base64url>", pinned when the function is created
  std::string runtime;  // as given by the user; canonical_runtime() says how to run it
  std::string handler;
  std::string mode = "persistent";  // exec only: persistent | oneshot
  int64_t timeout_ms = 3000;        // Lambda's default
  int64_t memory_mb = 128;
  int64_t min_warm = 0;
  int64_t max_concurrency = 10;
  int64_t max_queue = 100;
  std::map<std::string, std::string> env;

  // Every problem, one message each; empty when valid.
  std::vector<std::string> problems() const;
  Status validate() const;

  std::string to_json() const;
  // Decodes and validates a KV value; errors name the key.
  static Result<FunctionConfig> from_json(std::string_view key, std::string_view json);

  bool operator==(const FunctionConfig&) const = default;
};

}  // namespace natsfn
