#pragma once
// The workers of one function on this sidecar, and the requests waiting for them. Loop thread
// only.
//
// Capacity follows Lambda: one invocation per worker; min_warm standby workers are kept ready;
// more are cold-started on demand up to max_concurrency; beyond that requests wait in a queue of
// max_queue and past it are refused with 429. Idle workers above min_warm leave after idle_ttl.
// A changed configuration bumps the generation: old workers finish what they are doing and go.

#include <uv.h>

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <string>

#include "core/function_config.hpp"
#include "sidecar/src/invocation.hpp"
#include "sidecar/src/package_cache.hpp"
#include "sidecar/src/runtime_command.hpp"
#include "sidecar/src/worker_placement.hpp"
#include "sidecar/src/worker_process.hpp"

namespace natsfn {

struct PoolEnv {
  uv_loop_t* loop = nullptr;
  natsConnection* nc = nullptr;
  PackageCache* cache = nullptr;
  const RuntimePaths* paths = nullptr;
  uint64_t idle_ttl_ms = 60000;
  bool publish_logs = true;
  std::optional<uid_t> uid;  // run workers unprivileged (the sidecar must be root to switch)
  std::optional<gid_t> gid;
  WorkerPlacement* placement = nullptr;  // shared by all pools; may be null
};

struct PoolStats {
  uint64_t requests = 0;
  uint64_t errors = 0;
  uint64_t cold_starts = 0;
  uint64_t processing_us = 0;
  std::string last_error;
};

class FunctionPool final : public WorkerListener {
 public:
  FunctionPool(PoolEnv env, FunctionConfig config);
  ~FunctionPool() override;
  FunctionPool(const FunctionPool&) = delete;
  FunctionPool& operator=(const FunctionPool&) = delete;

  const FunctionConfig& config() const { return config_; }
  const PoolStats& stats() const { return stats_; }
  size_t worker_count() const { return workers_.size(); }
  size_t busy_count() const;
  size_t queued() const { return queue_.size(); }
  bool idle() const { return queue_.empty() && busy_count() == 0; }

  void submit(Invocation&& inv);
  void reconfigure(FunctionConfig config);
  // Takes no new work; serves what is queued and in flight, stops the workers, then calls done.
  void retire(std::function<void()> done);
  // Ends everything now (shutdown grace exceeded): queued and in-flight requests get a 503.
  void abort_all();

  // WorkerListener
  void on_frame(WorkerProcess& w, WorkerFrame&& frame) override;
  void on_log(WorkerProcess& w, bool is_stderr, std::string_view line) override;
  void on_exit(WorkerProcess& w, int64_t exit_status, int term_signal) override;
  void on_protocol_error(WorkerProcess& w, const Status& why) override;

 private:
  struct Worker;
  enum class State { starting, idle, busy, stopping };

  bool oneshot() const { return config_.mode == "oneshot"; }
  size_t live_workers() const;  // current generation, not stopping, plus starts awaiting package
  void start_worker(std::optional<Invocation> oneshot_inv = std::nullopt);
  void spawn_now(std::optional<Invocation> oneshot_inv);
  void package_ready(const Result<std::string>& dir);
  void dispatch(Worker& w, Invocation&& inv);
  void worker_free(Worker& w);
  void finish(Worker& w, bool ok, const std::string& payload, const Headers& headers,
              Errc code, const ErrorBody& error);
  void remove_worker(Worker& w);
  void stop_worker(Worker& w);
  void ensure_capacity();
  void fail_queue(Errc code, const ErrorBody& error);
  void init_failed(const std::string& message);
  void arm_timer(Worker& w, uint64_t ms, void (*cb)(uv_timer_t*));
  void check_retired();
  Worker* find(WorkerProcess& p);
  std::string log_context(const Worker* w) const;

  PoolEnv env_;
  FunctionConfig config_;
  uint64_t generation_ = 0;
  std::string package_dir_;
  bool fetching_ = false;
  int starts_waiting_for_package_ = 0;
  std::deque<Invocation> oneshot_waiting_for_package_;
  Status package_error_;
  Clock::time_point package_retry_at_{};

  std::map<uint64_t, std::unique_ptr<Worker>> workers_;
  std::deque<Invocation> queue_;

  int init_failures_ = 0;
  std::string last_init_error_;
  Clock::time_point backoff_until_{};
  uv_timer_t* backoff_timer_ = nullptr;

  bool retiring_ = false;
  std::function<void()> retired_;
  PoolStats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace natsfn
