#include "bridge-http/src/http_bridge.hpp"

#include <spdlog/spdlog.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "bridge-http/src/binding_watcher.hpp"
#include "bridge-http/src/gateway.hpp"
#include "bridge-http/src/http_server.hpp"
#include "bridge-http/src/loop_inbox.hpp"
#include "bridge-http/src/nats_invoker.hpp"
#include "bridge-http/src/route_table.hpp"
#include "core/catalogue.hpp"

namespace natsfn {
namespace {

// Written to a temp file and renamed, so a reader never sees a partial port number.
Status write_port_file(const std::string& path, int port) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out) return Status(Errc::io, "writing " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Status(Errc::io, "renaming " + tmp + ": " + ec.message());
  return Status::OK();
}

}  // namespace

HttpBridge::HttpBridge(BridgeOptions options) : options_(std::move(options)) {
  uv_loop_init(&loop_);
}

HttpBridge::~HttpBridge() {
  // run() leaves nothing behind; this covers a failed start.
  uv_run(&loop_, UV_RUN_NOWAIT);
  uv_loop_close(&loop_);
}

Status HttpBridge::start() {
  options_.connection.name = "natsfn-http";
  // As in the sidecar (core/connection.hpp): request publishes and the reply inbox do their I/O on
  // this loop, so everything published in one iteration leaves in one write and replies are read
  // without a reader thread; the KV calls go over the control connection.
  ConnectOptions data_opts;
  // With the event loop, send_asap means "write at the end of this loop iteration". Buffered,
  // nats.c's flusher thread batches publishes instead (up to ~1 ms later).
  data_opts.send_asap = !options_.buffered_publish;
  auto conns = connect_loop_daemon(options_.connection, &loop_, data_opts);
  if (!conns) return conns.status();
  control_ = std::move(conns->control);
  conn_ = std::move(conns->data);

  auto cat = Catalogue::open(control_.get(), {.create = true});
  if (!cat) return cat.status();
  catalogue_ = std::make_unique<Catalogue>(std::move(cat).value());

  reaper_ = std::make_unique<MsgReaper>(&loop_);
  write_flush_ = std::make_unique<LoopWriteFlush>(&loop_, conn_.get());
  inbox_ =
      std::make_unique<LoopInbox>(&loop_, [this](MsgPtr m) { invoker_->on_reply(std::move(m)); });
  invoker_ = std::make_unique<NatsInvoker>(&loop_, conn_.get(), *inbox_, options_.timeout_ms);
  if (auto s = invoker_->start(); !s) return s;
  routes_ = std::make_unique<RouteTable>(options_.default_routes);
  gateway_ = std::make_unique<Gateway>(*routes_, *invoker_, options_.access_log);
  server_ = std::make_unique<HttpServer>(&loop_, options_, *gateway_);

  uv_signal_init(&loop_, &sigterm_);
  uv_signal_init(&loop_, &sigint_);
  uv_timer_init(&loop_, &grace_timer_);
  handles_open_ = true;
  sigterm_.data = sigint_.data = grace_timer_.data = this;
  auto on_signal = [](uv_signal_t* h, int signum) {
    spdlog::info("signal {}: draining", signum);
    static_cast<HttpBridge*>(h->data)->begin_shutdown();
  };
  uv_signal_start(&sigterm_, on_signal, SIGTERM);
  uv_signal_start(&sigint_, on_signal, SIGINT);

  // Serve only once the routes are known, so the first requests do not see a spurious 404.
  watcher_ = std::make_unique<BindingWatcher>(
      catalogue_->bindings(), *inbox_,
      BindingEvents{[this](Binding b) {
                      spdlog::info("route {} -> {}", b.target(), b.function);
                      routes_->put(b);
                    },
                    [this](const std::string& key) { routes_->erase(key); },
                    [this] { on_routes_loaded(); }});
  watcher_->start();
  return Status::OK();
}

void HttpBridge::on_routes_loaded() {
  if (stopping_ || listening_) return;
  if (auto s = server_->listen(); !s) {
    spdlog::error("{}", s.message());
    exit_code_ = 1;
    begin_shutdown();
    return;
  }
  listening_ = true;
  spdlog::info("natsfn-http listening on {}:{} ({} routes{})", options_.host, server_->port(),
               routes_->size(), options_.default_routes ? ", default routes" : "");
  if (!options_.port_file.empty()) {
    if (auto s = write_port_file(options_.port_file, server_->port()); !s)
      spdlog::error("{}", s.message());
  }
}

int HttpBridge::run() {
  if (auto s = start(); !s) {
    spdlog::error("{}", s.message());
    teardown();
    return 1;
  }
  if (stop_requested_) begin_shutdown();
  uv_run(&loop_, UV_RUN_DEFAULT);
  teardown();
  spdlog::info("natsfn-http stopped");
  return exit_code_;
}

void HttpBridge::request_stop() {
  stop_requested_ = true;
  if (inbox_) inbox_->post([this] { begin_shutdown(); });
}

void HttpBridge::begin_shutdown() {
  if (stopping_) return;
  stopping_ = true;
  watcher_->stop();
  // In-flight requests end by their own deadline at the latest; the grace period only covers
  // clients too slow to take their last response.
  uv_timer_start(
      &grace_timer_,
      [](uv_timer_t* t) {
        auto* self = static_cast<HttpBridge*>(t->data);
        spdlog::warn("drain grace period over: closing {} connections",
                     self->server_->connections());
        self->server_->close_all();
      },
      static_cast<uint64_t>(options_.timeout_ms + 5000), 0);
  server_->drain([this] { finish_shutdown(); });
}

void HttpBridge::finish_shutdown() {
  if (finished_) return;
  finished_ = true;
  invoker_->close();
  uv_timer_stop(&grace_timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&grace_timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigterm_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
  handles_open_ = false;
  inbox_->close();
  reaper_->close();
  write_flush_->close();
  // Detaches the data connection from the loop (after writing what is buffered), so uv_run can
  // return.
  natsConnection_Close(conn_.get());
}

void HttpBridge::teardown() {
  // Off the loop now (it has stopped): stop the watcher thread, let nats.c release the reply
  // subscription, and only then free what its callbacks post to.
  if (watcher_) watcher_->stop();
  if (invoker_ && !finished_) invoker_->close();
  if (handles_open_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&grace_timer_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&sigterm_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
    handles_open_ = false;
  }
  if (inbox_) inbox_->close();
  if (reaper_) reaper_->close();
  if (write_flush_) write_flush_->close();
  // A failed start leaves the data connection attached: closing it detaches it, and the loop
  // runs once more to finish closing its handles.
  if (conn_ && !finished_) natsConnection_Close(conn_.get());
  uv_run(&loop_, UV_RUN_DEFAULT);
  if (invoker_) invoker_->wait_closed(std::chrono::seconds(2));
  watcher_.reset();
  catalogue_.reset();
  if (control_) natsConnection_Close(control_.get());
  control_.reset();
  conn_.reset();
  server_.reset();
  gateway_.reset();
  routes_.reset();
  invoker_.reset();
  inbox_.reset();
  reaper_.reset();
  write_flush_.reset();
}

}  // namespace natsfn
