#include "bridge-http/src/api_gateway_event.hpp"

#include <charconv>
#include <nlohmann/json.hpp>

#include "bridge-http/src/base64.hpp"

namespace natsfn {
namespace {

using json = nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Splits a query string into single- and multi-value maps; null for an empty query, as API
// Gateway sends it.
void add_query(json& event, std::string_view query) {
  json single = json::object();
  json multi = json::object();
  size_t start = 0;
  while (start < query.size()) {
    size_t amp = query.find('&', start);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view pair = query.substr(start, amp - start);
    start = amp + 1;
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string key = percent_decode(pair.substr(0, eq), true);
    std::string value =
        eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1), true);
    single[key] = value;
    multi[key].push_back(std::move(value));
  }
  event["queryStringParameters"] = single.empty() ? json(nullptr) : single;
  event["multiValueQueryStringParameters"] = multi.empty() ? json(nullptr) : multi;
}

std::string header_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number()) return v.dump();
  return {};
}

HttpResponse malformed(std::string_view why) {
  return error_response(502, std::string("Malformed Lambda proxy response: ") + std::string(why));
}

// For payloads that are not JSON.
std::string guess_content_type(std::string_view payload) {
  if (valid_utf8(payload)) return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

}  // namespace

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += len;
  }
  return true;
}

std::string build_event(const HttpRequest& req, const RouteMatch& route,
                        const std::string& request_id, int64_t epoch_ms) {
  json event = json::object();
  event["resource"] = route.resource;
  event["path"] = req.path;
  event["httpMethod"] = req.method;

  // API Gateway keeps the last value in headers and every value in multiValueHeaders, and
  // groups names case-insensitively under the first spelling it saw.
  json headers = json::object();
  json multi = json::object();
  std::vector<std::string> names;
  for (auto& [k, v] : req.headers) {
    std::string name = k;
    bool known = false;
    for (auto& seen : names)
      if (!known && iequals(seen, k)) {
        name = seen;
        known = true;
      }
    if (!known) names.push_back(k);
    headers[name] = v;
    multi[name].push_back(v);
  }
  event["headers"] = headers.empty() ? json(nullptr) : headers;
  event["multiValueHeaders"] = multi.empty() ? json(nullptr) : multi;
  add_query(event, req.query);

  json params = json::object();
  for (auto& [k, v] : route.path_params) params[k] = v;
  event["pathParameters"] = params.empty() ? json(nullptr) : params;
  event["stageVariables"] = nullptr;

  const std::string* host = req.header("host");
  const std::string* agent = req.header("user-agent");
  event["requestContext"] = {
      {"resourcePath", route.resource},
      {"httpMethod", req.method},
      {"path", req.path},
      {"requestId", request_id},
      {"requestTimeEpoch", epoch_ms},
      {"protocol", "HTTP/" + std::to_string(req.http_major) + "." + std::to_string(req.http_minor)},
      {"stage", "$default"},
      {"domainName", host ? *host : ""},
      {"identity", {{"sourceIp", req.source_ip}, {"userAgent", agent ? *agent : ""}}},
  };

  if (req.body.empty()) {
    event["body"] = nullptr;
    event["isBase64Encoded"] = false;
  } else if (valid_utf8(req.body)) {
    event["body"] = req.body;
    event["isBase64Encoded"] = false;
  } else {
    event["body"] = base64_encode(req.body);
    event["isBase64Encoded"] = true;
  }
  return dump(event);
}

HttpResponse result_to_response(std::string_view payload) {
  if (payload.find("\"statusCode\"") == std::string_view::npos) {
    // Cannot be a proxy result: validating is cheaper than building a document.
    HttpResponse r;
    r.headers.emplace_back("Content-Type", json::accept(payload) ? std::string("application/json")
                                                                 : guess_content_type(payload));
    r.body.assign(payload);
    return r;
  }
  json j = json::parse(payload, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("statusCode")) {
    HttpResponse r;
    r.headers.emplace_back("Content-Type", j.is_discarded() ? guess_content_type(payload)
                                                            : std::string("application/json"));
    r.body.assign(payload);
    return r;
  }

  HttpResponse r;
  const json& code = j["statusCode"];
  if (code.is_number_integer()) {
    r.status = code.get<int>();
  } else if (code.is_string()) {
    auto text = code.get<std::string>();
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), r.status);
    if (ec != std::errc() || end != text.data() + text.size()) return malformed("statusCode");
  } else {
    return malformed("statusCode");
  }
  if (r.status < 200 || r.status > 599) return malformed("statusCode out of range");

  std::vector<std::string> multi_names;
  if (auto it = j.find("multiValueHeaders"); it != j.end() && it->is_object()) {
    for (auto& [name, values] : it->items()) {
      if (!values.is_array()) continue;
      multi_names.push_back(name);
      for (auto& v : values) r.headers.emplace_back(name, header_text(v));
    }
  }
  if (auto it = j.find("headers"); it != j.end() && it->is_object()) {
    for (auto& [name, value] : it->items()) {
      bool shadowed = false;
      for (auto& m : multi_names) shadowed = shadowed || iequals(m, name);
      if (!shadowed) r.headers.emplace_back(name, header_text(value));
    }
  }

  if (auto it = j.find("body"); it != j.end() && !it->is_null())
    r.body = it->is_string() ? it->get<std::string>() : dump(*it);
  if (auto it = j.find("isBase64Encoded"); it != j.end() && it->is_boolean() && it->get<bool>()) {
    auto decoded = base64_decode(r.body);
    if (!decoded) return malformed("body is not valid base64");
    r.body = std::move(*decoded);
  }
  if (!r.has_header("content-type")) r.headers.emplace_back("Content-Type", "application/json");
  return r;
}

HttpResponse function_error_response(int service_code, std::string_view payload) {
  HttpResponse r;
  switch (service_code) {
    case 404:
    case 429:
    case 504:
      r.status = service_code;
      break;
    default:
      r.status = 502;  // the function (or its worker) failed: the gateway's upstream is bad
  }
  r.headers.emplace_back("Content-Type", "application/json");
  if (json::accept(payload))
    r.body.assign(payload);
  else
    r.body = dump(json{{"message", std::string(payload)}});
  return r;
}

}  // namespace natsfn
