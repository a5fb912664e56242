#pragma once
// Everything natsfn-http can be told on its command line, with Lambda's and API Gateway's
// defaults where they have one.

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/connection.hpp"
#include "core/status.hpp"

namespace natsfn {

struct BridgeOptions {
  ConnectionConfig connection;
  std::string host = "127.0.0.1";
  int port = 8080;                    // 0 picks a free port; see port_file
  std::string port_file;              // written with the bound port once serving
  size_t max_body = 6 * 1024 * 1024;  // Lambda's synchronous payload limit
  size_t max_header = 32 * 1024;      // request line plus all headers
  size_t max_pipeline = 64;           // requests queued on one connection before we stop reading
  int64_t timeout_ms = 30000;         // NATS request deadline (API Gateway's is 29 s)
  int64_t header_timeout_ms = 10000;  // a request's headers must arrive within this
  int64_t idle_timeout_ms = 60000;    // a keep-alive connection with nothing to do closes
  bool default_routes = false;        // /<function> invokes any function
  bool access_log = true;
  bool buffered_publish = false;  // let nats.c batch request publishes (see http_bridge.cpp)
};

// "HOST:PORT", ":PORT" or "PORT" → host and port. IPv6 hosts go in brackets: "[::1]:8080".
Status parse_listen(const std::string& text, std::string& host, int& port);

}  // namespace natsfn
