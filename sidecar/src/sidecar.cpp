#include "sidecar/src/sidecar.hpp"

#include <spdlog/spdlog.h>

#include "core/names.hpp"
#include "core/object_meta.hpp"
#include "core/object_store.hpp"
#include "sidecar/src/reply.hpp"

namespace natsfn {

Sidecar::Sidecar(SidecarOptions options)
    : options_(std::move(options)), placement_(options_.colocate_workers) {
  uv_loop_init(&loop_);
}

Sidecar::~Sidecar() {
  // run() leaves nothing behind; this covers a failed start.
  uv_run(&loop_, UV_RUN_NOWAIT);
  uv_loop_close(&loop_);
}

Sidecar::Sub* Sidecar::subscribe(const std::string& subject, bool canonical,
                                 const std::string& name) {
  // A canonical subject names its function; a bound one is resolved per message, so a rebind to
  // another function takes effect without resubscribing.
  auto sub = subscriber_->subscribe(subject, options_.queue, [this, canonical, name](MsgPtr msg) {
    Invocation inv;
    inv.msg = std::move(msg);
    inv.received = Clock::now();
    inv.request_id = new_request_id();
    (canonical ? inv.function : inv.binding) = name;
    on_message(std::move(inv));
  });
  if (!sub) {
    spdlog::error("cannot subscribe {}: {}", subject, sub.status().message());
    return nullptr;
  }
  return *sub;
}

void Sidecar::drain(Sub* sub, std::function<void()> then) {
  if (sub == nullptr) return;
  // Messages already on their way are still served; then the subscription is gone.
  subscriber_->drain(sub, [this, then = std::move(then)] {
    if (then) then();
    maybe_finish_shutdown();
  });
}

void Sidecar::on_message(Invocation&& inv) {
  if (!inv.binding.empty()) {
    auto it = bindings_.find(inv.binding);
    if (it == bindings_.end()) {
      inv.function = "-";
      reply_error(conn_.get(), inv, Status(Errc::not_found, std::string("no binding for subject ") + inv.subject()));
      return;
    }
    inv.function = it->second.function;
  }
  auto pool = pools_.find(inv.function);
  if (pool == pools_.end()) {
    reply_error(conn_.get(), inv,
                Status(Errc::not_found, "function '" + inv.function + "' does not exist"));
    return;
  }
  pool->second->submit(std::move(inv));
}

void Sidecar::on_function_put(FunctionConfig config) {
  if (stopping_) return;
  std::string name = config.name;
  auto it = pools_.find(name);
  if (it != pools_.end()) {
    if (it->second->config() == config) return;
    it->second->reconfigure(std::move(config));
    return;
  }
  spdlog::info("[{}] function loaded ({} {}, min_warm {}, max_concurrency {})", name,
               config.runtime, config.handler, config.min_warm, config.max_concurrency);
  PoolEnv env{&loop_, conn_.get(), cache_.get(), &options_.paths, options_.idle_ttl_ms,
              options_.publish_logs, options_.worker_uid, options_.worker_gid, &placement_};
  pools_[name] = std::make_unique<FunctionPool>(env, std::move(config));
  if (!function_subs_.count(name)) {
    if (Sub* sub = subscribe(invoke_subject(name), true, name)) function_subs_[name] = sub;
  }
}

void Sidecar::on_function_deleted(const std::string& name) {
  auto sub = function_subs_.find(name);
  if (sub != function_subs_.end()) {
    drain(sub->second);
    function_subs_.erase(sub);
  }
  auto it = pools_.find(name);
  if (it == pools_.end()) return;
  spdlog::info("[{}] function removed: draining", name);
  std::unique_ptr<FunctionPool> pool = std::move(it->second);
  pools_.erase(it);
  FunctionPool* raw = pool.get();
  std::string key = name + "#" + std::to_string(reinterpret_cast<uintptr_t>(raw));
  retiring_pools_[key] = std::move(pool);
  raw->retire([this, key] {
    // Destroying the pool inside its own callback would pull the floor from under it.
    inbox_->post([this, key] {
      retiring_pools_.erase(key);
      maybe_finish_shutdown();
    });
  });
}

void Sidecar::on_binding_put(Binding binding) {
  if (stopping_ || binding.type != Binding::Type::nats) return;
  std::string key = binding.key();
  bindings_[key] = std::move(binding);  // same key, same subject; maybe another function
  // The two buckets load on separate threads: a binding can arrive before its function, and its
  // subject would answer "function does not exist" where another sidecar could serve it. Until
  // the functions are loaded, bindings are only recorded (on_functions_loaded subscribes them).
  if (functions_loaded_) subscribe_binding(key);
}

void Sidecar::subscribe_binding(const std::string& key) {
  if (binding_subs_.count(key)) return;
  const Binding& binding = bindings_.at(key);
  spdlog::info("binding {} -> {}", binding.subject, binding.function);
  if (Sub* sub = subscribe(binding.subject, false, key)) binding_subs_[key] = sub;
}

void Sidecar::on_functions_loaded() {
  if (stopping_ || functions_loaded_) return;
  functions_loaded_ = true;
  spdlog::info("{} functions loaded; subscribing {} bindings", pools_.size(), bindings_.size());
  for (const auto& [key, binding] : bindings_) subscribe_binding(key);
}

void Sidecar::on_binding_deleted(const std::string& key) {
  auto it = bindings_.find(key);
  if (it == bindings_.end()) return;
  spdlog::info("unbinding {}", it->second.subject);
  // The binding stays resolvable until its drained messages are served (unless bound again
  // meanwhile).
  auto sub = binding_subs_.find(key);
  if (sub == binding_subs_.end()) {
    bindings_.erase(it);
    return;
  }
  drain(sub->second, [this, key] {
    if (!binding_subs_.count(key)) bindings_.erase(key);
  });
  binding_subs_.erase(sub);
}

std::vector<EndpointSnapshot> Sidecar::endpoints() const {
  std::map<std::string, std::string> bound;  // function -> its bound subjects, comma-separated
  for (const auto& [key, b] : bindings_) {
    std::string& list = bound[b.function];
    list += (list.empty() ? "" : ",") + b.subject;
  }
  std::vector<EndpointSnapshot> out;
  for (const auto& [name, pool] : pools_) {
    EndpointSnapshot e;
    e.name = name;
    e.subject = invoke_subject(name);
    e.queue_group = options_.queue;
    e.metadata["runtime"] = pool->config().runtime;
    if (auto it = bound.find(name); it != bound.end()) e.metadata["bound_subjects"] = it->second;
    const PoolStats& st = pool->stats();
    e.num_requests = st.requests;
    e.num_errors = st.errors;
    e.processing_us = st.processing_us;
    e.last_error = st.last_error;
    out.push_back(std::move(e));
  }
  return out;
}

void Sidecar::on_connection_change(bool connected) {
  if (connected)
    spdlog::info("reconnected to NATS");
  else
    spdlog::warn("disconnected from NATS; reconnecting");
}

Status Sidecar::start() {
  connection_cb_ = [this](bool connected) { on_connection_change(connected); };
  options_.connection.name = "natsfn-sidecar";
  set_sidecar_id(new_request_id().substr(0, 8));
  ConnectOptions data_opts;
  // Measured: without send_asap nats.c still holds replies ~1 ms (sequential p50 985 us vs 386 us).
  // With the event loop it means "write at the end of this loop iteration".
  data_opts.send_asap = true;
  data_opts.on_connection_change = &connection_cb_;
  auto conns = connect_loop_daemon(options_.connection, &loop_, data_opts);
  if (!conns) return conns.status();
  control_ = std::move(conns->control);
  conn_ = std::move(conns->data);

  auto cat = Catalogue::open(control_.get(), {.create = true, .replicas = options_.replicas});
  if (!cat) return cat.status();
  catalogue_ = std::make_unique<Catalogue>(std::move(cat).value());
  {
    ObjectStoreOptions oso;
    oso.replicas = options_.replicas;
    auto os = ObjectStore::open(control_.get(), kPackagesBucket, true, oso);
    if (!os) return os.status();
  }

  inbox_ = std::make_unique<LoopInbox>(&loop_, [](NoMessages&&) {});
  reaper_ = std::make_unique<MsgReaper>(&loop_);
  subscriber_ = std::make_unique<LoopSubscriber>(&loop_, conn_.get());
  write_flush_ = std::make_unique<LoopWriteFlush>(&loop_, conn_.get());
  discovery_ = std::make_unique<ServiceDiscovery>(
      *subscriber_, conn_.get(),
      ServiceIdentity{sidecar_id(), NATSFN_VERSION, rfc3339_now(), {{"queue", options_.queue}}},
      [this] { return endpoints(); });
  if (auto s = discovery_->start(); !s) return s;
  cache_ = std::make_unique<PackageCache>(&loop_, control_.get(), options_.cache_dir, kPackagesBucket);
  watcher_ = std::make_unique<CatalogueWatcher>(
      catalogue_->functions(), catalogue_->bindings(), *inbox_,
      CatalogueEvents{[this](FunctionConfig f) { on_function_put(std::move(f)); },
                      [this](const std::string& n) { on_function_deleted(n); },
                      [this](Binding b) { on_binding_put(std::move(b)); },
                      [this](const std::string& k) { on_binding_deleted(k); },
                      [this] { on_functions_loaded(); }});
  watcher_->start();

  uv_signal_init(&loop_, &sigterm_);
  uv_signal_init(&loop_, &sigint_);
  sigterm_.data = sigint_.data = this;
  auto on_signal = [](uv_signal_t* h, int signum) {
    spdlog::info("signal {}: draining", signum);
    static_cast<Sidecar*>(h->data)->begin_shutdown();
  };
  uv_signal_start(&sigterm_, on_signal, SIGTERM);
  uv_signal_start(&sigint_, on_signal, SIGINT);
  uv_timer_init(&loop_, &grace_timer_);
  grace_timer_.data = this;
  return Status::OK();
}

int Sidecar::run() {
  if (auto s = start(); !s) {
    spdlog::error("{}", s.message());
    if (watcher_) watcher_->stop();
    if (inbox_) inbox_->close();
    if (subscriber_) subscriber_->close();
    if (write_flush_) write_flush_->close();
    if (reaper_) reaper_->close();
    if (conn_) natsConnection_Close(conn_.get());  // detaches from the loop
    uv_run(&loop_, UV_RUN_DEFAULT);
    return 1;
  }
  spdlog::info("natsfn-sidecar serving on {} (queue group {}, cache {})",
               options_.connection.servers, options_.queue, options_.cache_dir);
  if (stop_requested_) begin_shutdown();
  uv_run(&loop_, UV_RUN_DEFAULT);
  // The loop ran until the data connection closed (finish_shutdown); now the rest.
  subscriber_.reset();
  discovery_.reset();
  write_flush_.reset();
  reaper_.reset();
  conn_.reset();
  watcher_.reset();
  catalogue_.reset();
  natsConnection_Close(control_.get());
  control_.reset();
  spdlog::info("natsfn-sidecar stopped");
  return 0;
}

void Sidecar::request_stop() {
  stop_requested_ = true;
  if (inbox_) inbox_->post([this] { begin_shutdown(); });
}

void Sidecar::begin_shutdown() {
  if (stopping_) return;
  stopping_ = true;
  watcher_->stop();
  // Move the handles out first: a drain that completes at once calls back into
  // maybe_finish_shutdown.
  auto function_subs = std::move(function_subs_);
  auto binding_subs = std::move(binding_subs_);
  function_subs_.clear();
  binding_subs_.clear();
  for (auto& [name, sub] : function_subs) drain(sub);
  for (auto& [key, sub] : binding_subs) drain(sub);
  uv_timer_start(&grace_timer_, [](uv_timer_t* t) {
    auto* self = static_cast<Sidecar*>(t->data);
    spdlog::warn("shutdown grace period over: stopping what is left");
    for (auto& [n, p] : self->pools_) p->abort_all();
    for (auto& [n, p] : self->retiring_pools_) p->abort_all();
    self->finish_shutdown();
  }, options_.grace_ms, 0);
  maybe_finish_shutdown();
}

void Sidecar::maybe_finish_shutdown() {
  if (!stopping_ || finished_) return;
  if (subscriber_->draining() > 0) return;  // messages may still arrive from draining subscriptions
  // No more input: let every pool finish its queue and in-flight work.
  for (auto& [name, pool] : pools_) {
    std::string key = name + "#shutdown";
    FunctionPool* raw = pool.get();
    retiring_pools_[key] = std::move(pool);
    raw->retire([this, key] {
      inbox_->post([this, key] {
        retiring_pools_.erase(key);
        maybe_finish_shutdown();
      });
    });
  }
  pools_.clear();
  if (retiring_pools_.empty()) finish_shutdown();
}

void Sidecar::finish_shutdown() {
  if (finished_) return;
  finished_ = true;
  retiring_pools_.clear();  // releases remaining workers (killed, reaped by libuv)
  pools_.clear();
  uv_timer_stop(&grace_timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&grace_timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigterm_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
  inbox_->close();
  subscriber_->close();
  reaper_->close();
  // Replies still buffered go out with the connection's close below.
  write_flush_->close();
  // Replies published this iteration are still in nats.c's buffer: write them out before closing,
  // which also detaches the connection from the loop so uv_run can return.
  flush_timer_ = new uv_timer_t;
  uv_timer_init(&loop_, flush_timer_);
  flush_timer_->data = this;
  uv_timer_start(flush_timer_, [](uv_timer_t* t) {
    auto* self = static_cast<Sidecar*>(t->data);
    natsConnection_Close(self->conn_.get());
    uv_close(reinterpret_cast<uv_handle_t*>(t), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  }, 20, 0);
}

}  // namespace natsfn
