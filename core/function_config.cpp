#include "core/function_config.hpp"

#include <cctype>
#include <nlohmann/json.hpp>

#include "core/names.hpp"
#include "core/split.hpp"

namespace natsfn {
namespace {

using json = nlohmann::json;

void check_range(std::vector<std::string>& out, const char* field, int64_t v, int64_t lo,
                 int64_t hi) {
  if (v < lo || v > hi)
    out.push_back(std::string(field) + " " + std::to_string(v) + " is outside " +
                  std::to_string(lo) + ".." + std::to_string(hi));
}

bool safe_relative_path(std::string_view p) {
  if (p.empty() || p[0] == '/') return false;
  for (auto part : split(p, '/'))
    if (part == "..") return false;
  return true;
}

}  // namespace

std::vector<std::string> FunctionConfig::problems() const {
  std::vector<std::string> out;
  if (auto s = validate_function_name(name); !s) out.push_back(s.message());
  if (package.empty()) out.push_back("package is required");
  if (digest.rfind("SHA-256=", 0) != 0 || digest.size() <= 8)
    out.push_back("digest must be pinned as SHA-256=<base64url>");
  std::string canon = canonical_runtime(runtime);
  if (canon.empty())
    out.push_back("unknown runtime '" + runtime + "' (use node, python or exec)");
  if (handler.empty()) {
    out.push_back("handler is required");
  } else if (!safe_relative_path(handler)) {
    out.push_back("handler '" + handler + "' must be a relative path inside the package");
  } else if ((canon == "node" || canon == "python") &&
             (handler.find('.') == std::string::npos || handler.back() == '.')) {
    out.push_back("handler '" + handler + "' must look like file.function");
  }
  if (mode != "persistent" && mode != "oneshot")
    out.push_back("mode '" + mode + "' must be persistent or oneshot");
  if (mode == "oneshot" && !canon.empty() && canon != "exec")
    out.push_back("mode oneshot only applies to the exec runtime");
  check_range(out, "timeout_ms", timeout_ms, 1, 900000);
  check_range(out, "memory_mb", memory_mb, 16, 10240);
  check_range(out, "min_warm", min_warm, 0, 100);
  check_range(out, "max_concurrency", max_concurrency, 1, 1000);
  check_range(out, "max_queue", max_queue, 0, 100000);
  if (min_warm > max_concurrency) out.push_back("min_warm is larger than max_concurrency");
  for (auto& [k, v] : env) {
    bool ok = !k.empty() && !std::isdigit(static_cast<unsigned char>(k[0]));
    for (char c : k) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
    if (!ok) out.push_back("environment variable name '" + k + "' is not valid");
  }
  return out;
}

Status FunctionConfig::validate() const {
  auto p = problems();
  if (p.empty()) return Status::OK();
  std::string msg = "function '" + name + "': " + p[0];
  for (size_t i = 1; i < p.size(); ++i) msg += "; " + p[i];
  return Status(Errc::invalid_argument, msg);
}

std::string FunctionConfig::to_json() const {
  json j = {{"name", name},           {"package", package},       {"digest", digest},
            {"runtime", runtime},     {"handler", handler},       {"mode", mode},
            {"timeout_ms", timeout_ms}, {"memory_mb", memory_mb}, {"min_warm", min_warm},
            {"max_concurrency", max_concurrency}, {"max_queue", max_queue}, {"env", env}};
  return j.dump();
}

Result<FunctionConfig> FunctionConfig::from_json(std::string_view key, std::string_view text) {
  auto corrupt = [&](const std::string& why) {
    return Status(Errc::corrupt, "natsfn_functions key '" + std::string(key) + "': " + why);
  };
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return corrupt("value is not valid JSON");
  if (!j.is_object()) return corrupt("value is not a JSON object");
  FunctionConfig f;
  f.name = std::string(key);
  try {
    auto str = [&](const char* field, std::string& out) {
      if (j.contains(field)) out = j.at(field).get<std::string>();
    };
    auto num = [&](const char* field, int64_t& out) {
      if (j.contains(field)) out = j.at(field).get<int64_t>();
    };
    str("package", f.package);
    str("digest", f.digest);
    str("runtime", f.runtime);
    str("handler", f.handler);
    str("mode", f.mode);
    num("timeout_ms", f.timeout_ms);
    num("memory_mb", f.memory_mb);
    num("min_warm", f.min_warm);
    num("max_concurrency", f.max_concurrency);
    num("max_queue", f.max_queue);
    if (j.contains("env")) f.env = j.at("env").get<std::map<std::string, std::string>>();
  } catch (const json::exception& e) {
    return corrupt(std::string("wrong field type: ") + e.what());
  }
  if (j.contains("name") && j["name"].is_string() && j["name"] != f.name)
    return corrupt("name field '" + j["name"].get<std::string>() + "' does not match the key");
  if (auto s = f.validate(); !s) return corrupt(s.message());
  return f;
}

}  // namespace natsfn
