#include "bridge-http/src/http_server.hpp"

#include <spdlog/spdlog.h>

#include <vector>

#include "bridge-http/src/http_connection.hpp"

namespace natsfn {

HttpServer::HttpServer(uv_loop_t* loop, const BridgeOptions& options, Gateway& gateway)
    : loop_(loop), options_(options), gateway_(gateway), buffer_(new char[kBufferSize]) {}

HttpServer::~HttpServer() = default;

Status HttpServer::listen() {
  sockaddr_storage addr{};
  if (uv_ip4_addr(options_.host.c_str(), options_.port, reinterpret_cast<sockaddr_in*>(&addr)) !=
          0 &&
      uv_ip6_addr(options_.host.c_str(), options_.port, reinterpret_cast<sockaddr_in6*>(&addr)) !=
          0)
    return Status(Errc::invalid_argument,
                  "--listen host '" + options_.host + "' is not an IP address");
  listener_ = new uv_tcp_t;
  uv_tcp_init(loop_, listener_);
  listener_->data = this;
  int rc = uv_tcp_bind(listener_, reinterpret_cast<sockaddr*>(&addr), 0);
  if (rc == 0)
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(listener_), 1024, &HttpServer::on_connection);
  if (rc != 0) {
    close_listener();
    return Status(Errc::io, "listening on " + options_.host + ":" + std::to_string(options_.port) +
                                ": " + uv_strerror(rc));
  }
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(listener_, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return Status::OK();
}

void HttpServer::on_connection(uv_stream_t* listener, int status) {
  auto* self = static_cast<HttpServer*>(listener->data);
  if (status < 0) {
    spdlog::warn("accept: {}", uv_strerror(status));
    return;
  }
  if (self->draining_) return;
  auto* c = new HttpConnection(*self, self->options_, self->gateway_);
  self->connections_.insert(c);
  c->accept(listener);
}

void HttpServer::forget(HttpConnection* c) {
  connections_.erase(c);
  if (draining_ && connections_.empty() && on_drained_) {
    auto cb = std::move(on_drained_);
    on_drained_ = nullptr;
    cb();
  }
}

void HttpServer::close_listener() {
  if (listener_ == nullptr) return;
  uv_close(reinterpret_cast<uv_handle_t*>(listener_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
  listener_ = nullptr;
}

void HttpServer::drain(std::function<void()> on_drained) {
  draining_ = true;
  close_listener();
  on_drained_ = std::move(on_drained);
  // drain() may close a connection, which erases it from the set: iterate over a copy.
  std::vector<HttpConnection*> open(connections_.begin(), connections_.end());
  for (auto* c : open) c->drain();
  if (connections_.empty() && on_drained_) {
    auto cb = std::move(on_drained_);
    on_drained_ = nullptr;
    cb();
  }
}

void HttpServer::close_all() {
  std::vector<HttpConnection*> open(connections_.begin(), connections_.end());
  for (auto* c : open) c->close();
}

}  // namespace natsfn
