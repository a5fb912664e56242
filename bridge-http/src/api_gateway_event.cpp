#include "bridge-http/src/api_gateway_event.hpp"

#include <charconv>
#include <nlohmann/json.hpp>

#include "bridge-http/src/base64.hpp"
#include "bridge-http/src/json_text.hpp"

namespace natsfn {
namespace {

using json = nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// A name with its values in arrival order: API Gateway's headers carry the last value,
// multiValueHeaders all of them.
using Groups = std::vector<std::pair<std::string, std::vector<std::string>>>;

void add_to_group(Groups& groups, std::string name, std::string value, bool fold_case) {
  for (auto& [n, values] : groups) {
    if (fold_case ? iequals(n, name) : n == name) {
      values.push_back(std::move(value));
      return;
    }
  }
  groups.emplace_back(std::move(name), std::vector<std::string>{std::move(value)});
}

// Writes `single` and `multi` members for the groups; null for none, as API Gateway sends it.
void write_groups(JsonWriter& w, const Groups& groups, std::string_view single,
                  std::string_view multi) {
  w.key(single);
  if (groups.empty()) {
    w.null();
  } else {
    w.begin_object();
    for (auto& [name, values] : groups) w.key(name).string(values.back());
    w.end_object();
  }
  w.key(multi);
  if (groups.empty()) {
    w.null();
  } else {
    w.begin_object();
    for (auto& [name, values] : groups) {
      w.key(name).begin_array();
      for (auto& v : values) w.string(v);
      w.end_array();
    }
    w.end_object();
  }
}

Groups parse_query(std::string_view query) {
  Groups groups;
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
    add_to_group(groups, std::move(key), std::move(value), false);
  }
  return groups;
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

std::string build_event(const HttpRequest& req, const RouteMatch& route,
                        const std::string& request_id, int64_t epoch_ms) {
  std::string out;
  out.reserve(768 + req.body.size() * 4 / 3);
  JsonWriter w(out);
  w.begin_object();
  w.key("resource").string(route.resource);
  w.key("path").string(req.path);
  w.key("httpMethod").string(req.method);

  // API Gateway groups header names case-insensitively under the first spelling it saw.
  Groups headers;
  for (auto& [k, v] : req.headers) add_to_group(headers, k, v, true);
  write_groups(w, headers, "headers", "multiValueHeaders");
  write_groups(w, parse_query(req.query), "queryStringParameters",
               "multiValueQueryStringParameters");

  w.key("pathParameters");
  if (route.path_params.empty()) {
    w.null();
  } else {
    w.begin_object();
    for (auto& [k, v] : route.path_params) w.key(k).string(v);
    w.end_object();
  }
  w.key("stageVariables").null();

  const std::string* host = req.header("host");
  const std::string* agent = req.header("user-agent");
  w.key("requestContext").begin_object();
  w.key("resourcePath").string(route.resource);
  w.key("httpMethod").string(req.method);
  w.key("path").string(req.path);
  w.key("requestId").string(request_id);
  w.key("requestTimeEpoch").number(epoch_ms);
  w.key("protocol").string("HTTP/" + std::to_string(req.http_major) + "." +
                           std::to_string(req.http_minor));
  w.key("stage").string("$default");
  w.key("domainName").string(host ? *host : "");
  w.key("identity").begin_object();
  w.key("sourceIp").string(req.source_ip);
  w.key("userAgent").string(agent ? *agent : "");
  w.end_object();
  w.end_object();

  if (req.body.empty()) {
    w.key("body").null();
    w.key("isBase64Encoded").boolean(false);
  } else if (valid_utf8(req.body)) {
    w.key("body").string(req.body);
    w.key("isBase64Encoded").boolean(false);
  } else {
    w.key("body").string(base64_encode(req.body));
    w.key("isBase64Encoded").boolean(true);
  }
  w.end_object();
  return out;
}

HttpResponse result_to_response(std::string_view payload) {
  if (payload.find("\"statusCode\"") == std::string_view::npos) {
    // Cannot be a proxy result: validating is cheaper than building a document.
    HttpResponse r;
    r.headers.emplace_back("Content-Type", is_json_text(payload) ? std::string("application/json")
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
  if (is_json_text(payload))
    r.body.assign(payload);
  else
    r.body = dump(json{{"message", std::string(payload)}});
  return r;
}

}  // namespace natsfn
