#pragma once
// natsfn.json, the manifest at a package's root (DESIGN "Package manifest"). This layer checks
// shape and types only; which runtimes exist and what ranges are sensible is the function
// catalogue's business.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.hpp"

namespace natsfn {

inline constexpr const char* kManifestFileName = "natsfn.json";
inline constexpr uint64_t kMaxManifestBytes = 1 << 20;

struct Manifest {
  std::string name;
  std::string runtime;
  std::string handler;
  std::string mode = "persistent";  // "persistent" or "oneshot"
  std::optional<int64_t> timeout_ms;
  std::optional<int64_t> memory_mb;
  std::optional<int64_t> min_warm;
  std::optional<int64_t> max_concurrency;
  std::optional<int64_t> max_queue;
  std::map<std::string, std::string> env;

  bool operator==(const Manifest&) const = default;
};

/// Parses manifest JSON. `source_name` starts every error (Errc::invalid_argument), e.g.
/// "natsfn.json: unknown field 'timout'", "natsfn.json: 'memory_mb' must be an integer",
/// "natsfn.json: missing required field 'handler'", "natsfn.json: not valid JSON: ...".
/// `timeout` is a duration string ("3s", see parse_duration) or an integer of milliseconds.
/// `name` stays empty when absent.
Result<Manifest> parse_manifest(std::string_view json_text, std::string_view source_name);

/// Reads `<dir>/natsfn.json` (at most 1 MiB); `name` defaults to the directory's basename.
/// Errc::not_found when the directory has no natsfn.json.
Result<Manifest> load_manifest_from_dir(const std::string& dir);

/// Reads natsfn.json from the root of a tar, tar.gz or zip package without extracting it
/// (at most 1 MiB). nullopt when the package has none. `name` stays empty when the manifest has
/// none: the caller knows what the package is called.
Result<std::optional<Manifest>> read_manifest_from_archive(const std::string& archive_path);

}  // namespace natsfn
