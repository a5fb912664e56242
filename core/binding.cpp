#include "core/binding.hpp"

#include <nlohmann/json.hpp>

#include "core/names.hpp"

namespace natsfn {
namespace {

using json = nlohmann::json;

// KV keys allow [-/_=.a-zA-Z0-9]; subjects and paths carry '*', '>', '{', so the key uses
// hex of the value behind a readable type prefix.
std::string hex(std::string_view s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() * 2);
  for (unsigned char c : s) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

}  // namespace

std::string nats_binding_key(std::string_view subject) { return "nats." + hex(subject); }

std::string http_binding_key(std::string_view path, const std::vector<std::string>& methods) {
  return "http." + hex(join(methods, ",") + " " + std::string(path));
}

Binding Binding::nats(std::string subject, std::string function) {
  Binding b;
  b.type = Type::nats;
  b.subject = std::move(subject);
  b.function = std::move(function);
  return b;
}

Binding Binding::http(std::string path, std::vector<std::string> methods, std::string function) {
  Binding b;
  b.type = Type::http;
  b.path = std::move(path);
  b.methods = std::move(methods);
  b.function = std::move(function);
  return b;
}

std::string Binding::key() const {
  return type == Type::nats ? nats_binding_key(subject) : http_binding_key(path, methods);
}

std::string Binding::target() const {
  if (type == Type::nats) return subject;
  return (methods.empty() ? std::string("ANY") : join(methods, ",")) + " " + path;
}

Status Binding::validate() const {
  if (auto s = validate_function_name(function); !s) return s;
  if (type == Type::nats) return validate_binding_subject(subject);
  if (path.empty() || path[0] != '/')
    return Status(Errc::invalid_argument, "http path '" + path + "' must start with '/'");
  for (auto& m : methods) {
    bool ok = !m.empty();
    for (char c : m) ok = ok && c >= 'A' && c <= 'Z';
    if (!ok) return Status(Errc::invalid_argument, "http method '" + m + "' is not valid");
  }
  return Status::OK();
}

std::string Binding::to_json() const {
  json j;
  if (type == Type::nats) {
    j = {{"type", "nats"}, {"subject", subject}, {"function", function}};
  } else {
    j = {{"type", "http"}, {"path", path}, {"methods", methods}, {"function", function}};
  }
  return j.dump();
}

Result<Binding> Binding::from_json(std::string_view key, std::string_view text) {
  auto corrupt = [&](const std::string& why) {
    return Status(Errc::corrupt, "natsfn_bindings key '" + std::string(key) + "': " + why);
  };
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return corrupt("value is not valid JSON");
  if (!j.is_object()) return corrupt("value is not a JSON object");
  Binding b;
  try {
    std::string type = j.value("type", std::string("nats"));
    if (type == "nats") {
      b.type = Type::nats;
      b.subject = j.at("subject").get<std::string>();
    } else if (type == "http") {
      b.type = Type::http;
      b.path = j.at("path").get<std::string>();
      if (j.contains("methods")) b.methods = j.at("methods").get<std::vector<std::string>>();
    } else {
      return corrupt("unknown binding type '" + type + "'");
    }
    b.function = j.at("function").get<std::string>();
  } catch (const json::exception& e) {
    return corrupt(std::string("missing or mistyped field: ") + e.what());
  }
  if (auto s = b.validate(); !s) return corrupt(s.message());
  return b;
}

}  // namespace natsfn
