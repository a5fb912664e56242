#pragma once
// An HTTP request as the parser assembled it and a response as the gateway produced it; plain
// data, so event mapping and serialisation can be tested without sockets.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace natsfn {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;
  std::string target;  // the raw request target
  std::string path;    // raw path of the target (percent-encoded as sent)
  std::string query;   // raw query string, without '?'
  HeaderList headers;  // in arrival order, names as sent
  std::string body;
  int http_major = 1;
  int http_minor = 1;
  std::string source_ip;

  // First header with this name (case-insensitive), or nullptr.
  const std::string* header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  HeaderList headers;  // without Content-Length, Connection and Transfer-Encoding
  std::string body;

  void set_header(std::string name, std::string value);
  bool has_header(std::string_view name) const;
};

// "Not Found" for 404; "Unknown" for codes we never produce.
const char* reason_phrase(int status);

bool iequals(std::string_view a, std::string_view b);

struct WireOptions {
  bool keep_alive = true;
  bool http10 = false;  // tell an HTTP/1.0 client explicitly that we keep the connection
  bool head = false;    // HEAD: headers with the GET body's length, no body
};

// Status line, headers (dropping any that could split the response), Content-Length,
// Connection, blank line and body.
std::string serialize_response(const HttpResponse& r, const WireOptions& w);

// A JSON error body the way API Gateway writes its own: {"message":"..."}.
HttpResponse error_response(int status, std::string_view message);

}  // namespace natsfn
