#include "core/object_meta.hpp"

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>

#include "core/base64url.hpp"

namespace natsfn {
namespace {

std::optional<Sha256Digest> from_hex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Sha256Digest out{};
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = nibble(hex[2 * i]);
    int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

Status corrupt(std::string_view name, std::string_view bucket, std::string_view why) {
  return Status(Errc::corrupt, "object '" + std::string(name) + "' in bucket " +
                                   std::string(bucket) +
                                   ": malformed metadata: " + std::string(why));
}

}  // namespace

bool valid_bucket_name(std::string_view bucket) {
  if (bucket.empty()) return false;
  for (char c : bucket) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string object_stream_name(std::string_view bucket) { return "OBJ_" + std::string(bucket); }

std::string chunk_subject(std::string_view bucket, std::string_view nuid) {
  return "$O." + std::string(bucket) + ".C." + std::string(nuid);
}
std::string chunk_subject_all(std::string_view bucket) {
  return "$O." + std::string(bucket) + ".C.>";
}
std::string meta_subject(std::string_view bucket, std::string_view name) {
  return "$O." + std::string(bucket) + ".M." + base64url_encode(name);
}
std::string meta_subject_all(std::string_view bucket) {
  return "$O." + std::string(bucket) + ".M.>";
}

std::string format_digest(const Sha256Digest& digest) {
  return std::string(kDigestPrefix) +
         base64url_encode({reinterpret_cast<const char*>(digest.data()), digest.size()});
}

std::optional<Sha256Digest> parse_digest(std::string_view text) {
  if (text.substr(0, kDigestPrefix.size()) != kDigestPrefix) return std::nullopt;
  text.remove_prefix(kDigestPrefix.size());
  if (text.size() == 64) {
    if (auto hex = from_hex(text)) return hex;
  }
  auto bytes = base64url_decode(text);
  if (!bytes || bytes->size() != 32) return std::nullopt;
  Sha256Digest out{};
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>((*bytes)[i]);
  return out;
}

std::string rfc3339_from_nanos(int64_t nanos) {
  time_t secs = static_cast<time_t>(nanos / 1'000'000'000);
  int millis = static_cast<int>(nanos / 1'000'000 % 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof(buf) - n, ".%03dZ", millis);
  return buf;
}

std::string rfc3339_now() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return rfc3339_from_nanos(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count());
}

std::string encode_object_info(const ObjectInfo& info) {
  // ordered_json keeps nats.js's field order, which makes records diff cleanly across clients.
  nlohmann::ordered_json j;
  j["bucket"] = info.bucket;
  j["nuid"] = info.nuid;
  j["size"] = info.size;
  j["chunks"] = info.chunks;
  j["name"] = info.name;
  j["description"] = info.description;
  j["options"] = {{"max_chunk_size", info.max_chunk_size}};
  j["mtime"] = info.mtime;
  j["digest"] = info.digest;
  j["deleted"] = info.deleted;
  return j.dump();
}

Result<ObjectInfo> decode_object_info(std::string_view json, std::string_view name,
                                      std::string_view bucket) {
  nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return corrupt(name, bucket, "not valid JSON");
  if (!j.is_object()) return corrupt(name, bucket, "not a JSON object");
  ObjectInfo info;
  // Each field is checked for its type so a bad record is an error value, never an exception.
  auto str = [&](const char* key, std::string& out, bool required) -> bool {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return !required;
    if (!it->is_string()) return false;
    out = it->get<std::string>();
    return true;
  };
  auto uint = [&](const char* key, uint64_t& out, uint64_t max) -> bool {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return true;
    if (!it->is_number_unsigned() || it->get<uint64_t>() > max) return false;
    out = it->get<uint64_t>();
    return true;
  };
  uint64_t chunks = 0;
  uint64_t max_chunk = 0;
  if (!str("name", info.name, true)) return corrupt(name, bucket, "'name' missing or not a string");
  if (!str("nuid", info.nuid, false)) return corrupt(name, bucket, "'nuid' is not a string");
  if (!str("bucket", info.bucket, false)) return corrupt(name, bucket, "'bucket' is not a string");
  if (!str("digest", info.digest, false)) return corrupt(name, bucket, "'digest' is not a string");
  if (!str("mtime", info.mtime, false)) return corrupt(name, bucket, "'mtime' is not a string");
  if (!str("description", info.description, false)) {
    return corrupt(name, bucket, "'description' is not a string");
  }
  if (!uint("size", info.size, UINT64_MAX)) return corrupt(name, bucket, "bad 'size'");
  if (!uint("chunks", chunks, UINT32_MAX)) return corrupt(name, bucket, "bad 'chunks'");
  info.chunks = static_cast<uint32_t>(chunks);
  if (auto it = j.find("deleted"); it != j.end() && !it->is_null()) {
    if (!it->is_boolean()) return corrupt(name, bucket, "'deleted' is not a boolean");
    info.deleted = it->get<bool>();
  }
  if (auto it = j.find("options"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return corrupt(name, bucket, "'options' is not an object");
    if (auto mc = it->find("max_chunk_size"); mc != it->end() && !mc->is_null()) {
      if (!mc->is_number_unsigned() || mc->get<uint64_t>() > UINT32_MAX) {
        return corrupt(name, bucket, "bad 'options.max_chunk_size'");
      }
      max_chunk = mc->get<uint64_t>();
    }
    if (auto link = it->find("link"); link != it->end() && !link->is_null()) {
      return Status(Errc::invalid_argument, "object '" + std::string(name) + "' in bucket " +
                                                std::string(bucket) +
                                                " is a link; links are not supported");
    }
  }
  info.max_chunk_size = static_cast<uint32_t>(max_chunk);
  if (info.bucket.empty()) info.bucket = std::string(bucket);
  if (!info.deleted) {
    if (info.nuid.empty() && info.size > 0) return corrupt(name, bucket, "'nuid' missing");
    if (!parse_digest(info.digest)) {
      return corrupt(name, bucket, "unsupported or unparsable digest '" + info.digest + "'");
    }
    // Some clients store an empty chunk for an empty object, so only the impossible direction
    // (bytes without chunks) is rejected.
    if (info.size > 0 && info.chunks == 0) {
      return corrupt(name, bucket, "'size' is set but 'chunks' is 0");
    }
  }
  return info;
}

}  // namespace natsfn
