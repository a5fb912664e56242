#pragma once
// natsfn-http as an object: connects to NATS, follows the http bindings, serves HTTP on one
// libuv loop and drains on SIGTERM/SIGINT (stop accepting, finish what is in flight, exit 0).

#include <uv.h>

#include <atomic>
#include <memory>

#include "bridge-http/src/bridge_options.hpp"
#include "bridge-http/src/loop_inbox.hpp"
#include "core/loop_write_flush.hpp"
#include "core/msg_reaper.hpp"
#include "core/nats_handles.hpp"
#include "core/status.hpp"

namespace natsfn {

class BindingWatcher;
class Catalogue;
class Gateway;
class HttpServer;

class NatsInvoker;
class RouteTable;

class HttpBridge {
 public:
  explicit HttpBridge(BridgeOptions options);
  ~HttpBridge();
  HttpBridge(const HttpBridge&) = delete;
  HttpBridge& operator=(const HttpBridge&) = delete;

  // Serves until a signal (or request_stop) has drained it; returns the exit code.
  int run();
  // Any thread.
  void request_stop();

 private:
  Status start();
  void on_routes_loaded();
  void begin_shutdown();
  void finish_shutdown();
  void teardown();

  BridgeOptions options_;
  uv_loop_t loop_;
  uv_signal_t sigterm_;
  uv_signal_t sigint_;
  uv_timer_t grace_timer_;
  bool handles_open_ = false;
  bool listening_ = false;
  bool stopping_ = false;
  bool finished_ = false;
  std::atomic<bool> stop_requested_{false};
  int exit_code_ = 0;

  ConnectionPtr conn_;     // data plane, on the loop
  ConnectionPtr control_;  // KV
  std::unique_ptr<Catalogue> catalogue_;
  std::unique_ptr<LoopInbox> inbox_;
  std::unique_ptr<LoopWriteFlush> write_flush_;  // requests leave in the iteration they are made
  std::unique_ptr<MsgReaper> reaper_;  // replies are freed in batches (core/msg_reaper.hpp)
  std::unique_ptr<NatsInvoker> invoker_;
  std::unique_ptr<RouteTable> routes_;
  std::unique_ptr<Gateway> gateway_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<BindingWatcher> watcher_;
};

}  // namespace natsfn
