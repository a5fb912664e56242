#pragma once
// One HTTP request's life between the connection and NATS: route lookup, the API Gateway
// event, the asynchronous request to natsfn.invoke.<function>, the mapping of whatever comes
// back (reply, function error, no responders, deadline) to a response, and the access log line.
// Loop thread only.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "bridge-http/src/http_message.hpp"

namespace natsfn {

class NatsInvoker;
class RouteTable;

class Gateway {
 public:
  // Runs on the loop thread, at most once, never after cancel().
  using Done = std::function<void(HttpResponse&&)>;

  Gateway(RouteTable& routes, NatsInvoker& invoker, bool access_log)
      : routes_(routes), invoker_(invoker), access_log_(access_log) {}

  // Returns the token of the NATS request in flight, or 0 when done has already run (no route,
  // request refused).
  uint64_t handle(HttpRequest&& req, Done done);
  // The client went away: the reply, when it comes, is dropped.
  void cancel(uint64_t token);

  // Logs a response that never reached the gateway (400, 408, 413, 431 from the connection).
  void log_rejected(const std::string& method, const std::string& target, int status);

 private:
  void log(const std::string& method, const std::string& target, int status,
           std::chrono::steady_clock::time_point start, const std::string& request_id);

  RouteTable& routes_;
  NatsInvoker& invoker_;
  bool access_log_;
};

}  // namespace natsfn
