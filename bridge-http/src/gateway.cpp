#include "bridge-http/src/gateway.hpp"

#include <spdlog/spdlog.h>

#include "bridge-http/src/api_gateway_event.hpp"
#include "bridge-http/src/nats_invoker.hpp"
#include "bridge-http/src/route_table.hpp"
#include "core/names.hpp"
#include "core/request_id.hpp"

namespace natsfn {
namespace {

using Clock = std::chrono::steady_clock;

int64_t epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const char* header_or_empty(natsMsg* m, const char* key) {
  const char* v = nullptr;
  if (natsMsgHeader_Get(m, key, &v) != NATS_OK || v == nullptr) return "";
  return v;
}

}  // namespace

void Gateway::log(const std::string& method, const std::string& target, int status,
                  Clock::time_point start, const std::string& request_id) {
  if (!access_log_) return;
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
  spdlog::info("{} {} {} {:.3f}ms {}", method, target, status, us / 1000.0, request_id);
}

void Gateway::log_rejected(const std::string& method, const std::string& target, int status) {
  if (!access_log_) return;
  spdlog::info("{} {} {} 0.000ms -", method.empty() ? "-" : method, target.empty() ? "-" : target,
               status);
}

uint64_t Gateway::handle(HttpRequest&& req, Done done) {
  auto start = Clock::now();
  std::string request_id = new_request_id();
  auto respond = [&](HttpResponse&& r) {
    r.set_header("X-Request-Id", request_id);
    log(req.method, req.target, r.status, start, request_id);
    done(std::move(r));
  };

  auto lookup = routes_.lookup(req.method, req.path);
  if (!lookup.match) {
    if (!lookup.allowed_methods.empty()) {
      auto r = error_response(405, "Method Not Allowed");
      r.set_header("Allow", lookup.allowed_methods);
      respond(std::move(r));
    } else {
      respond(error_response(404, "Not Found"));
    }
    return 0;
  }

  spdlog::debug("[{}] {} {} -> {}", request_id, req.method, req.target, lookup.match->function);
  std::string event = build_event(req, *lookup.match, request_id, epoch_ms());
  std::string function = lookup.match->function;
  // Shared so that a refused publish (which drops the callback) can still answer.
  auto shared_done = std::make_shared<Done>(std::move(done));
  auto callback = [this, done = shared_done, start, request_id, function, method = req.method,
                   target = req.target](InvokeOutcome&& out) {
    HttpResponse r;
    switch (out.kind) {
      case InvokeOutcome::Kind::cancelled:
        log(method, target, 499, start, request_id);  // nginx's "client closed request"
        return;
      case InvokeOutcome::Kind::timeout:
        r = error_response(504, "Endpoint request timed out");
        break;
      case InvokeOutcome::Kind::no_responders:
        r = error_response(503, "No sidecar serves function '" + function + "'");
        break;
      case InvokeOutcome::Kind::reply: {
        natsMsg* m = out.msg.get();
        std::string_view payload(natsMsg_GetData(m) ? natsMsg_GetData(m) : "",
                                 static_cast<size_t>(natsMsg_GetDataLength(m)));
        std::string code = header_or_empty(m, "Nats-Service-Error-Code");
        r = code.empty() ? result_to_response(payload)
                         : function_error_response(std::atoi(code.c_str()), payload);
        break;
      }
    }
    r.set_header("X-Request-Id", request_id);
    log(method, target, r.status, start, request_id);
    (*done)(std::move(r));
  };

  auto token = invoker_.invoke(invoke_subject(function), event, std::move(callback));
  if (token) return *token;
  // The callback (and with it done) was not kept; answer from here.
  const Status& s = token.status();
  spdlog::warn("[{}] request to {} failed: {}", request_id, function, s.message());
  int status = s.code() == Errc::too_large ? 413 : s.code() == Errc::shutting_down ? 503 : 502;
  HttpResponse r = error_response(status, s.message());
  r.set_header("X-Request-Id", request_id);
  log(req.method, req.target, r.status, start, request_id);
  (*shared_done)(std::move(r));
  return 0;
}

void Gateway::cancel(uint64_t token) {
  if (token != 0) invoker_.cancel(token);
}

}  // namespace natsfn
