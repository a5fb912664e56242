#pragma once
// The listening socket and the set of open connections. Loop thread only.

#include <uv.h>

#include <functional>
#include <memory>
#include <unordered_set>

#include "bridge-http/src/bridge_options.hpp"
#include "core/status.hpp"

namespace natsfn {

class Gateway;
class HttpConnection;

class HttpServer {
 public:
  HttpServer(uv_loop_t* loop, const BridgeOptions& options, Gateway& gateway);
  ~HttpServer();  // the listener and every connection must be closed by then
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds options.host:options.port and starts accepting.
  Status listen();
  int port() const { return port_; }
  size_t connections() const { return connections_.size(); }

  // Stops accepting, lets every connection finish what it has received, and calls on_drained
  // once the last one has gone.
  void drain(std::function<void()> on_drained);
  // Closes every connection now (the drain grace period ran out).
  void close_all();

  // For connections.
  void forget(HttpConnection* c);
  uv_buf_t read_buffer() { return uv_buf_init(buffer_.get(), kBufferSize); }

 private:
  static constexpr unsigned kBufferSize = 64 * 1024;
  static void on_connection(uv_stream_t* listener, int status);
  void close_listener();

  uv_loop_t* loop_;
  const BridgeOptions& options_;
  Gateway& gateway_;
  uv_tcp_t* listener_ = nullptr;  // freed in its close callback
  int port_ = 0;
  bool draining_ = false;
  std::function<void()> on_drained_;
  std::unordered_set<HttpConnection*> connections_;
  std::unique_ptr<char[]> buffer_;
};

}  // namespace natsfn
