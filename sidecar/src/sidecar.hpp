#pragma once
// natsfn-sidecar: subscribes every bound subject (and natsfn.invoke.<function>) on a queue group,
// hands each message to the function's pool on the libuv loop, and converges live on the KV
// catalogue. One loop thread owns all pools, workers and subscriptions' bookkeeping.

#include <uv.h>

#include <atomic>
#include <map>
#include <optional>
#include <memory>
#include <string>

#include "core/catalogue.hpp"
#include "core/connection.hpp"
#include "core/loop_subscriber.hpp"
#include "core/loop_write_flush.hpp"
#include "core/msg_reaper.hpp"
#include "sidecar/src/catalogue_watcher.hpp"
#include "sidecar/src/function_pool.hpp"
#include "sidecar/src/loop_inbox.hpp"
#include "sidecar/src/package_cache.hpp"
#include "sidecar/src/runtime_command.hpp"
#include "sidecar/src/service_discovery.hpp"

namespace natsfn {

struct SidecarOptions {
  ConnectionConfig connection;
  std::string cache_dir;
  std::string queue = "natsfn";
  RuntimePaths paths;
  uint64_t idle_ttl_ms = 60000;
  uint64_t grace_ms = 30000;  // SIGTERM: how long in-flight work may take to finish
  bool colocate_workers = true;  // see sidecar/src/worker_placement.hpp
  int replicas = 1;
  bool publish_logs = true;
  std::optional<uid_t> worker_uid;
  std::optional<gid_t> worker_gid;
};

class Sidecar {
 public:
  explicit Sidecar(SidecarOptions options);
  ~Sidecar();
  Sidecar(const Sidecar&) = delete;
  Sidecar& operator=(const Sidecar&) = delete;

  // Connects, loads the catalogue and serves until SIGTERM/SIGINT (or request_stop) has drained
  // everything. Returns the process exit code.
  int run();
  // Any thread: begins the same drain as SIGTERM.
  void request_stop();

 private:
  using Sub = LoopSubscriber::Subscription;

  Status start();
  void on_message(Invocation&& inv);
  void on_function_put(FunctionConfig config);
  void on_function_deleted(const std::string& name);
  void on_binding_put(Binding binding);
  void on_binding_deleted(const std::string& key);
  void on_functions_loaded();
  void subscribe_binding(const std::string& key);  // once; the binding is in bindings_
  Sub* subscribe(const std::string& subject, bool canonical, const std::string& name);
  void drain(Sub* sub, std::function<void()> then = nullptr);
  void begin_shutdown();
  void maybe_finish_shutdown();
  void finish_shutdown();
  void on_connection_change(bool connected);
  std::vector<EndpointSnapshot> endpoints() const;

  SidecarOptions options_;
  uv_loop_t loop_{};
  // Two connections: the data plane (subscriptions, replies, logs) does its socket I/O on the
  // loop; the control plane (KV watchers, Object Store fetches) blocks on JetStream replies and
  // so must not share the loop's connection.
  ConnectionPtr conn_;
  ConnectionPtr control_;
  std::function<void(bool)> connection_cb_;
  std::unique_ptr<Catalogue> catalogue_;
  std::unique_ptr<LoopInbox> inbox_;
  std::unique_ptr<MsgReaper> reaper_;
  std::unique_ptr<LoopSubscriber> subscriber_;
  std::unique_ptr<LoopWriteFlush> write_flush_;
  std::unique_ptr<ServiceDiscovery> discovery_;  // its subscriptions live in subscriber_
  std::unique_ptr<PackageCache> cache_;
  std::unique_ptr<CatalogueWatcher> watcher_;

  WorkerPlacement placement_;  // before the pools, which point at it
  std::map<std::string, std::unique_ptr<FunctionPool>> pools_;
  std::map<std::string, std::unique_ptr<FunctionPool>> retiring_pools_;
  // Subscriptions are owned by subscriber_; these are handles.
  std::map<std::string, Sub*> function_subs_;  // by function name
  std::map<std::string, Binding> bindings_;    // by binding key
  std::map<std::string, Sub*> binding_subs_;   // by binding key

  uv_signal_t sigterm_{};
  uv_signal_t sigint_{};
  uv_timer_t grace_timer_{};
  uv_timer_t* flush_timer_ = nullptr;
  bool stopping_ = false;
  bool functions_loaded_ = false;  // bindings are subscribed only after the first functions snapshot
  bool finished_ = false;
  std::atomic<bool> stop_requested_{false};
};

}  // namespace natsfn
