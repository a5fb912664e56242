#include "core/manifest.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/duration.hpp"
#include "core/package_archive.hpp"

namespace natsfn {
namespace {

using nlohmann::json;

class Parser {
 public:
  explicit Parser(std::string_view source) : source_(source) {}

  Status error(std::string_view what) const {
    return Status(Errc::invalid_argument, source_ + ": " + std::string(what));
  }

  Status string_field(const json& value, const char* key, std::string& out) const {
    if (!value.is_string()) return error("'" + std::string(key) + "' must be a string");
    out = value.get<std::string>();
    return Status::OK();
  }

  Status integer_field(const json& value, const char* key, std::optional<int64_t>& out) const {
    // Unsigned values above int64's range would wrap; they are not integers we can hold.
    if (value.is_number_integer() &&
        !(value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))) {
      out = value.get<int64_t>();
      return Status::OK();
    }
    return error("'" + std::string(key) + "' must be an integer");
  }

  Status timeout_field(const json& value, std::optional<int64_t>& out) const {
    if (value.is_string()) {
      auto ms = parse_duration(value.get<std::string>());
      if (!ms.ok()) return error(ms.status().message());
      out = *ms;
      return Status::OK();
    }
    if (value.is_number_integer()) return integer_field(value, "timeout", out);
    return error("'timeout' must be a duration string like \"3s\" or an integer of milliseconds");
  }

  Status env_field(const json& value, std::map<std::string, std::string>& out) const {
    if (!value.is_object()) return error("'env' must be an object of strings");
    for (const auto& [key, item] : value.items()) {
      if (!item.is_string()) return error("'env." + key + "' must be a string");
      out[key] = item.get<std::string>();
    }
    return Status::OK();
  }

  Result<Manifest> parse(std::string_view text) const {
    json doc;
    try {
      doc = json::parse(text.begin(), text.end());
    } catch (const json::parse_error& e) {
      // Drop nlohmann's "[json.exception.parse_error.101] " tag; keep the position and reason.
      std::string why = e.what();
      if (auto close = why.find("] ");
          why.rfind("[json.exception", 0) == 0 && close != std::string::npos) {
        why.erase(0, close + 2);
      }
      return error("not valid JSON: " + why);
    }
    if (!doc.is_object()) return error("must be a JSON object");

    Manifest m;
    for (const auto& [key, value] : doc.items()) {
      Status s;
      if (key == "name") {
        s = string_field(value, "name", m.name);
      } else if (key == "runtime") {
        s = string_field(value, "runtime", m.runtime);
      } else if (key == "handler") {
        s = string_field(value, "handler", m.handler);
      } else if (key == "mode") {
        s = string_field(value, "mode", m.mode);
        if (s.ok() && m.mode != "persistent" && m.mode != "oneshot") {
          s = error("'mode' must be 'persistent' or 'oneshot', not '" + m.mode + "'");
        }
      } else if (key == "timeout") {
        s = timeout_field(value, m.timeout_ms);
      } else if (key == "memory_mb") {
        s = integer_field(value, "memory_mb", m.memory_mb);
      } else if (key == "min_warm") {
        s = integer_field(value, "min_warm", m.min_warm);
      } else if (key == "max_concurrency") {
        s = integer_field(value, "max_concurrency", m.max_concurrency);
      } else if (key == "max_queue") {
        s = integer_field(value, "max_queue", m.max_queue);
      } else if (key == "env") {
        s = env_field(value, m.env);
      } else {
        s = error("unknown field '" + key + "'");
      }
      if (!s.ok()) return s;
    }
    for (auto [key, field] : {std::pair{"runtime", &m.runtime}, {"handler", &m.handler}}) {
      if (!doc.contains(key)) return error("missing required field '" + std::string(key) + "'");
      if (field->empty()) return error("'" + std::string(key) + "' must not be empty");
    }
    return m;
  }

 private:
  std::string source_;
};

}  // namespace

Result<Manifest> parse_manifest(std::string_view json_text, std::string_view source_name) {
  return Parser(source_name).parse(json_text);
}

Result<Manifest> load_manifest_from_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  fs::path path = fs::path(dir) / kManifestFileName;
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    return Status(Errc::not_found, "no " + std::string(kManifestFileName) + " in '" + dir + "'");
  }
  if (!fs::is_regular_file(status)) {
    return Status(Errc::invalid_argument, "'" + path.string() + "' is not a regular file");
  }
  auto size = fs::file_size(path, ec);
  if (!ec && size > kMaxManifestBytes) {
    return Status(Errc::too_large, "'" + path.string() + "' is larger than 1 MiB");
  }
  std::ifstream in(path, std::ios::binary);
  std::string text;
  if (in) text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) {
    return Status(Errc::io, "cannot read '" + path.string() + "': " + std::strerror(errno));
  }

  auto manifest = parse_manifest(text, path.string());
  if (!manifest.ok()) return manifest;
  if (manifest->name.empty()) {
    // Absolute and normalised, so "." and "fn/" still name the directory itself.
    fs::path base = fs::absolute(fs::path(dir), ec).lexically_normal();
    if (!base.has_filename()) base = base.parent_path();
    manifest->name = base.filename().string();
  }
  return manifest;
}

Result<std::optional<Manifest>> read_manifest_from_archive(const std::string& archive_path) {
  auto text = read_package_file(archive_path, kManifestFileName, kMaxManifestBytes);
  if (!text.ok()) return text.status();
  if (!text->has_value()) return std::optional<Manifest>();
  auto manifest =
      parse_manifest(**text, std::string(kManifestFileName) + " in '" + archive_path + "'");
  if (!manifest.ok()) return manifest.status();
  return std::optional<Manifest>(std::move(manifest).value());
}

}  // namespace natsfn
