#include "sidecar/src/function_pool.hpp"

#include <spdlog/spdlog.h>

#include <cmath>
#include <cstdlib>

#include "sidecar/src/reply.hpp"

namespace natsfn {
namespace {

constexpr auto kPackageRetry = std::chrono::seconds(1);
constexpr int64_t kMaxBackoffMs = 5000;

int64_t epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Headers message_headers(natsMsg* msg) {
  Headers out;
  const char** keys = nullptr;
  int count = 0;
  if (natsMsgHeader_Keys(msg, &keys, &count) != NATS_OK) return out;
  for (int i = 0; i < count; ++i) {
    const char* value = nullptr;
    if (natsMsgHeader_Get(msg, keys[i], &value) == NATS_OK && value != nullptr)
      out[keys[i]] = value;
  }
  free(static_cast<void*>(keys));
  return out;
}

std::string timeout_message(int64_t timeout_ms) {
  char buf[64];
  snprintf(buf, sizeof buf, "Task timed out after %.2f seconds", timeout_ms / 1000.0);
  return buf;
}

// Everything that changes how a worker process is started; limits can change under live workers.
bool same_process(const FunctionConfig& a, const FunctionConfig& b) {
  return a.package == b.package && a.digest == b.digest && a.runtime == b.runtime &&
         a.handler == b.handler && a.mode == b.mode && a.memory_mb == b.memory_mb &&
         a.env == b.env && a.timeout_ms == b.timeout_ms;
}

}  // namespace

struct FunctionPool::Worker {
  FunctionPool* pool = nullptr;
  WorkerProcess* proc = nullptr;
  uint64_t generation = 0;
  State state = State::starting;
  std::optional<Invocation> current;
  bool served_any = false;
  bool timed_out = false;
  bool placed_in_flight = false;           // counted by env.placement until finish()
  int cpu = WorkerPlacement::kAnyCpu;      // where env.placement last put it
  // Output and results travel on different pipes: a line read just after the result still
  // belongs to the invocation that printed it.
  std::string last_request_id;
  std::string init_error;
  Clock::time_point ready_at{};
  uv_timer_t* timer = nullptr;  // invocation timeout or idle TTL
};

FunctionPool::FunctionPool(PoolEnv env, FunctionConfig config)
    : env_(env), config_(std::move(config)) {
  backoff_timer_ = new uv_timer_t;
  uv_timer_init(env_.loop, backoff_timer_);
  backoff_timer_->data = this;
  ensure_capacity();
}

FunctionPool::~FunctionPool() {
  *alive_ = false;
  for (auto& [id, w] : workers_) {
    if (w->current) reply_error(env_.nc, *w->current, Errc::shutting_down,
                                {"ServiceUnavailable", "sidecar is shutting down", {}});
    uv_close(reinterpret_cast<uv_handle_t*>(w->timer),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    w->proc->release();
  }
  uv_close(reinterpret_cast<uv_handle_t*>(backoff_timer_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
}

size_t FunctionPool::busy_count() const {
  size_t n = 0;
  for (auto& [id, w] : workers_) n += w->state == State::busy;
  return n;
}

size_t FunctionPool::live_workers() const {
  size_t n = starts_waiting_for_package_ + oneshot_waiting_for_package_.size();
  for (auto& [id, w] : workers_) n += w->generation == generation_ && w->state != State::stopping;
  return n;
}

std::string FunctionPool::log_context(const Worker* w) const {
  if (w == nullptr) return "-";
  if (w->current) return w->current->request_id;
  return w->last_request_id.empty() ? "-" : w->last_request_id;
}

FunctionPool::Worker* FunctionPool::find(WorkerProcess& p) {
  auto it = workers_.find(p.id());
  return it == workers_.end() ? nullptr : it->second.get();
}

void FunctionPool::submit(Invocation&& inv) {
  ++stats_.requests;
  if (retiring_) {
    reply_error(env_.nc, inv, Errc::shutting_down,
                {"ServiceUnavailable", "function '" + config_.name + "' is going away", {}});
    return;
  }
  auto now = Clock::now();
  if (!package_error_.ok() && now < package_retry_at_) {
    ++stats_.errors;
    reply_error(env_.nc, inv, package_error_);
    return;
  }
  if (oneshot()) {
    if (live_workers() < static_cast<size_t>(config_.max_concurrency)) {
      start_worker(std::move(inv));
    } else if (queue_.size() < static_cast<size_t>(config_.max_queue)) {
      queue_.push_back(std::move(inv));
    } else {
      ++stats_.errors;
      reply_error(env_.nc, inv, Errc::over_capacity,
                  {"TooManyRequestsException", "function '" + config_.name + "' is at capacity", {}});
    }
    return;
  }
  for (auto& [id, w] : workers_) {
    if (w->state == State::idle && w->generation == generation_) {
      dispatch(*w, std::move(inv));
      return;
    }
  }
  // No idle worker. Requests covered by workers already starting wait for them; beyond that a
  // new worker starts while there is room, else the request queues or is refused.
  size_t starting = starts_waiting_for_package_;
  for (auto& [id, w] : workers_) starting += w->state == State::starting;
  bool in_backoff = now < backoff_until_;
  if (in_backoff && live_workers() == 0) {
    ++stats_.errors;
    reply_error(env_.nc, inv, Errc::init_failed,
                {"Runtime.InitError", last_init_error_, {}});
    return;
  }
  if (queue_.size() >= starting) {
    if (!in_backoff && live_workers() < static_cast<size_t>(config_.max_concurrency)) {
      queue_.push_back(std::move(inv));
      start_worker();
      return;
    }
    if (queue_.size() >= starting + static_cast<size_t>(config_.max_queue)) {
      ++stats_.errors;
      reply_error(env_.nc, inv, Errc::over_capacity,
                  {"TooManyRequestsException",
                   "function '" + config_.name + "' is at capacity (" +
                       std::to_string(config_.max_concurrency) + " running, " +
                       std::to_string(queue_.size()) + " queued)",
                   {}});
      return;
    }
  }
  queue_.push_back(std::move(inv));
}

void FunctionPool::start_worker(std::optional<Invocation> oneshot_inv) {
  if (!package_dir_.empty()) {
    spawn_now(std::move(oneshot_inv));
    return;
  }
  if (oneshot_inv)
    oneshot_waiting_for_package_.push_back(std::move(*oneshot_inv));
  else
    ++starts_waiting_for_package_;
  if (fetching_) return;
  fetching_ = true;
  std::weak_ptr<bool> alive = alive_;
  uint64_t generation = generation_;
  env_.cache->ensure(config_, [this, alive, generation](const Result<std::string>& dir) {
    if (alive.expired()) return;
    if (generation != generation_) return;  // reconfigured meanwhile; a new fetch was started
    package_ready(dir);
  });
}

void FunctionPool::package_ready(const Result<std::string>& dir) {
  fetching_ = false;
  int starts = starts_waiting_for_package_;
  auto oneshots = std::move(oneshot_waiting_for_package_);
  starts_waiting_for_package_ = 0;
  oneshot_waiting_for_package_.clear();
  if (!dir.ok()) {
    package_error_ = dir.status();
    package_retry_at_ = Clock::now() + kPackageRetry;
    stats_.last_error = package_error_.message();
    for (auto& inv : oneshots) reply_error(env_.nc, inv, package_error_);
    fail_queue(package_error_.code(), {package_error_.type(), package_error_.message(), {}});
    check_retired();
    return;
  }
  package_error_ = Status::OK();
  package_dir_ = dir.value();
  for (int i = 0; i < starts; ++i) spawn_now(std::nullopt);
  for (auto& inv : oneshots) spawn_now(std::move(inv));
}

void FunctionPool::spawn_now(std::optional<Invocation> oneshot_inv) {
  auto spec = runtime_command(config_, package_dir_, *env_.paths);
  if (spec.ok()) {
    spec->uid = env_.uid;
    spec->gid = env_.gid;
  }
  Result<WorkerProcess*> proc = spec.ok() ? WorkerProcess::spawn(env_.loop, *spec, this)
                                          : Result<WorkerProcess*>(spec.status());
  if (!proc.ok()) {
    if (oneshot_inv) reply_error(env_.nc, *oneshot_inv, proc.status());
    init_failed(proc.status().message());
    return;
  }
  auto w = std::make_unique<Worker>();
  w->pool = this;
  w->proc = *proc;
  w->generation = generation_;
  w->timer = new uv_timer_t;
  uv_timer_init(env_.loop, w->timer);
  w->timer->data = w.get();
  Worker& ref = *w;
  workers_.emplace(ref.proc->id(), std::move(w));
  spdlog::debug("[{}] worker {} started (pid {})", config_.name, ref.proc->id(), ref.proc->pid());
  if (oneshot_inv) {
    oneshot_inv->cold = true;
    dispatch(ref, std::move(*oneshot_inv));
  }
}

void FunctionPool::arm_timer(Worker& w, uint64_t ms, void (*cb)(uv_timer_t*)) {
  uv_timer_start(w.timer, cb, ms, 0);
}

void FunctionPool::dispatch(Worker& w, Invocation&& inv) {
  uv_timer_stop(w.timer);
  w.state = State::busy;
  w.timed_out = false;
  Status sent;
  if (oneshot()) {
    sent = w.proc->send(std::string(natsMsg_GetData(inv.msg.get()),
                                    static_cast<size_t>(natsMsg_GetDataLength(inv.msg.get()))));
  } else {
    if (!w.served_any && w.ready_at > inv.received) inv.cold = true;
    InvokeFrame f;
    f.id = inv.request_id;
    f.payload.assign(natsMsg_GetData(inv.msg.get()),
                     static_cast<size_t>(natsMsg_GetDataLength(inv.msg.get())));
    f.headers = message_headers(inv.msg.get());
    f.deadline_ms = epoch_ms() + config_.timeout_ms;
    f.ctx = {config_.name, config_.digest, config_.memory_mb, inv.subject(), inv.request_id};
    if (env_.placement) {
      env_.placement->dispatching(w.proc->pid(), w.cpu);
      w.placed_in_flight = true;
    }
    sent = w.proc->send(encode_invoke(f));
  }
  if (inv.cold) ++stats_.cold_starts;
  w.last_request_id = inv.request_id;
  w.current = std::move(inv);
  w.served_any = true;
  if (!sent.ok()) {
    finish(w, false, "", {}, Errc::worker_crashed, {"Runtime.ExitError", sent.message(), {}});
    w.proc->kill_group();
    return;
  }
  arm_timer(w, static_cast<uint64_t>(config_.timeout_ms), [](uv_timer_t* t) {
    auto* wk = static_cast<Worker*>(t->data);
    FunctionPool* pool = wk->pool;
    if (wk->state != State::busy || !wk->current) return;
    spdlog::warn("[{}] [{}] timed out after {} ms; killing worker {}", pool->config_.name,
                 wk->current->request_id, pool->config_.timeout_ms, wk->proc->pid());
    wk->timed_out = true;
    pool->finish(*wk, false, "", {}, Errc::timeout,
                 {"Sandbox.Timedout", timeout_message(pool->config_.timeout_ms), {}});
    wk->state = State::stopping;
    wk->proc->kill_group();
  });
}

void FunctionPool::finish(Worker& w, bool ok, const std::string& payload, const Headers& headers,
                          Errc code, const ErrorBody& error) {
  if (!w.current) return;
  if (w.placed_in_flight) {
    env_.placement->finished();
    w.placed_in_flight = false;
  }
  Invocation inv = std::move(*w.current);
  w.current.reset();
  uv_timer_stop(w.timer);
  stats_.processing_us += std::chrono::duration_cast<std::chrono::microseconds>(
                              Clock::now() - inv.received).count();
  if (ok) {
    reply_success(env_.nc, inv, payload, headers);
  } else {
    ++stats_.errors;
    stats_.last_error = error.message;
    reply_error(env_.nc, inv, code, error);
  }
}

void FunctionPool::worker_free(Worker& w) {
  w.state = State::idle;
  if (w.generation != generation_ || retiring_) {
    if (!queue_.empty() && w.generation == generation_) {
      dispatch(w, std::move(queue_.front()));
      queue_.pop_front();
      return;
    }
    stop_worker(w);
    check_retired();
    return;
  }
  if (!queue_.empty()) {
    Invocation next = std::move(queue_.front());
    queue_.pop_front();
    dispatch(w, std::move(next));
    return;
  }
  // Idle. Standby workers up to min_warm stay; the rest leave after the idle TTL.
  if (live_workers() > static_cast<size_t>(config_.min_warm)) {
    arm_timer(w, env_.idle_ttl_ms, [](uv_timer_t* t) {
      auto* wk = static_cast<Worker*>(t->data);
      if (wk->state != State::idle) return;
      FunctionPool* pool = wk->pool;
      if (pool->live_workers() <= static_cast<size_t>(pool->config_.min_warm)) return;
      spdlog::debug("[{}] idle worker {} leaves", pool->config_.name, wk->proc->pid());
      pool->stop_worker(*wk);
    });
  }
}

void FunctionPool::stop_worker(Worker& w) {
  uv_timer_stop(w.timer);
  w.state = State::stopping;
  w.proc->stop();
}

void FunctionPool::remove_worker(Worker& w) {
  uint64_t id = w.proc->id();
  uv_close(reinterpret_cast<uv_handle_t*>(w.timer),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  w.proc->release();
  workers_.erase(id);
}

void FunctionPool::on_frame(WorkerProcess& p, WorkerFrame&& frame) {
  Worker* w = find(p);
  if (w == nullptr) return;
  switch (frame.kind) {
    case WorkerFrame::Kind::ready:
      if (w->state != State::starting) return;
      w->ready_at = Clock::now();
      init_failures_ = 0;
      spdlog::debug("[{}] worker {} ready (pid {})", config_.name, p.id(), p.pid());
      worker_free(*w);
      break;
    case WorkerFrame::Kind::init_error:
      w->init_error = frame.error.type + ": " + frame.error.message;
      p.kill_group();
      break;
    case WorkerFrame::Kind::result:
      if (w->state != State::busy || !w->current || frame.id != w->current->request_id) {
        spdlog::warn("[{}] worker {} sent a result for '{}' it was not asked for", config_.name,
                     p.pid(), frame.id);
        return;
      }
      if (frame.ok)
        finish(*w, true, frame.payload, frame.headers, Errc::ok, {});
      else
        finish(*w, false, "", {}, Errc::handler_error, frame.error);
      worker_free(*w);
      break;
  }
}

void FunctionPool::on_log(WorkerProcess& p, bool is_stderr, std::string_view line) {
  Worker* w = find(p);
  std::string rid = log_context(w);
  if (is_stderr)
    spdlog::warn("[{}] [{}] {}", config_.name, rid, line);
  else
    spdlog::info("[{}] [{}] {}", config_.name, rid, line);
  if (!env_.publish_logs) return;
  std::string subject = "natsfn.logs." + config_.name;
  natsMsg* m = nullptr;
  if (natsMsg_Create(&m, subject.c_str(), nullptr, line.data(), static_cast<int>(line.size())) !=
      NATS_OK)
    return;
  MsgPtr msg(m);
  natsMsgHeader_Set(m, "Natsfn-Request-Id", rid.c_str());
  natsMsgHeader_Set(m, "Natsfn-Stream", is_stderr ? "stderr" : "stdout");
  natsConnection_PublishMsg(env_.nc, m);
}

void FunctionPool::on_protocol_error(WorkerProcess& p, const Status& why) {
  Worker* w = find(p);
  spdlog::error("[{}] [{}] worker {} broke the frame protocol: {}", config_.name, log_context(w),
                p.pid(), why.message());
  if (w != nullptr) w->init_error = "protocol error: " + why.message();
}

void FunctionPool::on_exit(WorkerProcess& p, int64_t exit_status, int term_signal) {
  Worker* w = find(p);
  if (w == nullptr) {
    p.release();
    return;
  }
  std::string how = term_signal != 0 ? "signal " + std::to_string(term_signal)
                                     : "status " + std::to_string(exit_status);
  std::string tail = p.stderr_tail();
  if (oneshot() && w->current && !w->timed_out) {
    if (exit_status == 0 && term_signal == 0 && !p.stdout_overflowed()) {
      finish(*w, true, p.stdout_data(), {}, Errc::ok, {});
    } else if (p.stdout_overflowed()) {
      finish(*w, false, "", {}, Errc::too_large,
             {"ResponseSizeTooLarge", "function output exceeds the result limit", {}});
    } else {
      std::string msg = "exited with " + how + (tail.empty() ? "" : ": " + tail);
      finish(*w, false, "", {}, Errc::handler_error, {"Error", msg, {}});
    }
  } else if (w->current && !w->timed_out) {
    spdlog::error("[{}] [{}] worker {} died mid-invocation ({})", config_.name,
                  w->current->request_id, p.pid(), how);
    std::string msg = "worker exited with " + how + " during the invocation" +
                      (w->init_error.empty() ? "" : " (" + w->init_error + ")") +
                      (tail.empty() ? "" : "; stderr: " + tail);
    finish(*w, false, "", {}, Errc::worker_crashed, {"Runtime.ExitError", msg, {}});
  } else if (w->state == State::starting) {
    std::string msg = !w->init_error.empty() ? w->init_error
                                             : "worker exited with " + how + " before it was ready";
    if (!tail.empty() && w->init_error.empty()) msg += "; stderr: " + tail;
    remove_worker(*w);
    init_failed(msg);
    return;
  }
  remove_worker(*w);
  ensure_capacity();
  check_retired();
}

void FunctionPool::init_failed(const std::string& message) {
  ++init_failures_;
  last_init_error_ = "function '" + config_.name + "' failed to start: " + message;
  stats_.last_error = last_init_error_;
  spdlog::error("[{}] {}", config_.name, last_init_error_);
  int64_t backoff_ms = std::min<int64_t>(kMaxBackoffMs, 100LL << std::min(init_failures_, 10));
  backoff_until_ = Clock::now() + std::chrono::milliseconds(backoff_ms);
  // With nothing left that could serve them, waiting requests get the init error now.
  if (live_workers() == 0)
    fail_queue(Errc::init_failed, {"Runtime.InitError", last_init_error_, {}});
  uv_timer_start(backoff_timer_,
                 [](uv_timer_t* t) { static_cast<FunctionPool*>(t->data)->ensure_capacity(); },
                 static_cast<uint64_t>(backoff_ms), 0);
  check_retired();
}

void FunctionPool::ensure_capacity() {
  if (!package_error_.ok() && Clock::now() < package_retry_at_) return;
  if (oneshot()) {
    // One process per invocation: a finished one makes room for the next queued request.
    while (!queue_.empty() && live_workers() < static_cast<size_t>(config_.max_concurrency)) {
      Invocation next = std::move(queue_.front());
      queue_.pop_front();
      start_worker(std::move(next));
    }
    return;
  }
  if (retiring_) return;
  if (Clock::now() < backoff_until_) return;  // the backoff timer calls again
  size_t want = static_cast<size_t>(config_.min_warm);
  // Queued requests with no worker on the way also need starts.
  size_t live = live_workers();
  size_t starting = starts_waiting_for_package_;
  for (auto& [id, w] : workers_) starting += w->state == State::starting;
  size_t need_for_queue = queue_.size() > starting ? queue_.size() - starting : 0;
  want = std::max(want, live + need_for_queue);
  want = std::min(want, static_cast<size_t>(config_.max_concurrency));
  for (size_t i = live; i < want; ++i) start_worker();
}

void FunctionPool::fail_queue(Errc code, const ErrorBody& error) {
  auto waiting = std::move(queue_);
  queue_.clear();
  for (auto& inv : waiting) {
    ++stats_.errors;
    reply_error(env_.nc, inv, code, error);
  }
}

void FunctionPool::reconfigure(FunctionConfig config) {
  bool restart = !same_process(config_, config);
  bool new_package = config_.digest != config.digest;
  config_ = std::move(config);
  if (restart) {
    ++generation_;
    if (new_package) {
      package_dir_.clear();
      fetching_ = false;
    }
    package_error_ = Status::OK();
    init_failures_ = 0;
    backoff_until_ = {};
    // Old workers: idle ones go now; busy ones after their current invocation (worker_free).
    std::vector<Worker*> idle;
    for (auto& [id, w] : workers_)
      if (w->state == State::idle || w->state == State::starting) idle.push_back(w.get());
    for (Worker* w : idle) stop_worker(*w);
    // Starts that were waiting for the old package count no more.
    starts_waiting_for_package_ = 0;
    spdlog::info("[{}] configuration changed: recycling workers", config_.name);
  }
  ensure_capacity();
}

void FunctionPool::retire(std::function<void()> done) {
  retiring_ = true;
  retired_ = std::move(done);
  for (auto& [id, w] : workers_)
    if (w->state == State::idle || w->state == State::starting) stop_worker(*w);
  check_retired();
}

void FunctionPool::check_retired() {
  if (!retiring_ || !retired_) return;
  if (!queue_.empty()) return;
  for (auto& [id, w] : workers_) {
    if (w->state == State::busy) return;
    if (w->state != State::stopping) stop_worker(*w);
  }
  if (!workers_.empty() || fetching_) return;
  auto done = std::move(retired_);
  retired_ = nullptr;
  done();
}

void FunctionPool::abort_all() {
  fail_queue(Errc::shutting_down, {"ServiceUnavailable", "sidecar is shutting down", {}});
  for (auto& [id, w] : workers_) {
    if (w->current)
      finish(*w, false, "", {}, Errc::shutting_down,
             {"ServiceUnavailable", "sidecar is shutting down", {}});
    w->state = State::stopping;
    w->proc->kill_group();
  }
}

}  // namespace natsfn
