#pragma once
// The Object Store's on-the-wire vocabulary (ADR-20, as nats.js v2 and nats.go write it): the
// ObjectInfo JSON kept on `$O.<bucket>.M.<base64url(name)>`, subject names, and the
// `SHA-256=<base64url>` digest form. Pure functions, no I/O, so they are unit-testable.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/sha256.hpp"
#include "core/status.hpp"

namespace natsfn {

// What ADR-20 calls ObjectInfo, trimmed to what natsfn uses. Fields other clients add (headers,
// metadata) are kept when we rewrite a meta record, see ObjectStore::remove.
struct ObjectInfo {
  std::string name;
  std::string bucket;
  std::string nuid;    // chunk subject suffix: $O.<bucket>.C.<nuid>
  std::string digest;  // "SHA-256=<base64url>", empty for deleted objects
  std::string mtime;   // RFC 3339 UTC, from the record or else the message time
  std::string description;
  uint64_t size = 0;
  uint32_t chunks = 0;
  uint32_t max_chunk_size = 0;
  uint64_t revision = 0;  // stream sequence of the meta message
  bool deleted = false;
};

inline constexpr uint32_t kDefaultChunkSize = 128 * 1024;
inline constexpr std::string_view kDigestPrefix = "SHA-256=";

// Bucket names follow ADR-20's restricted-term: 1 or more of A-Z a-z 0-9 - _.
bool valid_bucket_name(std::string_view bucket);

std::string object_stream_name(std::string_view bucket);  // OBJ_<bucket>
std::string chunk_subject(std::string_view bucket, std::string_view nuid);
std::string chunk_subject_all(std::string_view bucket);  // $O.<bucket>.C.>
std::string meta_subject(std::string_view bucket, std::string_view name);
std::string meta_subject_all(std::string_view bucket);  // $O.<bucket>.M.>

std::string format_digest(const Sha256Digest& digest);
// Accepts the padded and unpadded base64url forms, standard base64, and lowercase or uppercase
// hex (nats.js v2 reads all of these); nullopt for anything else or a non-SHA-256 prefix.
std::optional<Sha256Digest> parse_digest(std::string_view text);

// Current UTC time as nats.js writes it: 2024-05-01T12:34:56.789Z.
std::string rfc3339_now();
// Nanoseconds since the epoch in the same format; used when a record has no mtime.
std::string rfc3339_from_nanos(int64_t nanos);

// Serialises a live object's record with the fields, in the order, nats.js v2 writes them.
std::string encode_object_info(const ObjectInfo& info);

// Parses a meta record. `name` is the object asked for, so a malformed record is reported as
// Errc::corrupt naming it.
Result<ObjectInfo> decode_object_info(std::string_view json, std::string_view name,
                                      std::string_view bucket);

}  // namespace natsfn
