#include "bridge-http/src/nats_invoker.hpp"
#include "core/connection.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

namespace natsfn {

NatsInvoker::NatsInvoker(uv_loop_t* loop, natsConnection* nc, LoopInbox& inbox, int64_t timeout_ms)
    : loop_(loop), nc_(nc), inbox_(inbox), timeout_(timeout_ms) {
  timer_ = new uv_timer_t;
  uv_timer_init(loop_, timer_);
  timer_->data = this;
}

NatsInvoker::~NatsInvoker() {
  // close() ran on the loop; the timer frees itself in its close callback.
}

Status NatsInvoker::start() {
  auto inbox = new_inbox();
  if (!inbox) return inbox.status();
  prefix_ = *inbox + ".";
  natsSubscription* raw = nullptr;
  std::string subject = prefix_ + "*";
  if (auto s = natsConnection_Subscribe(&raw, nc_, subject.c_str(), &NatsInvoker::on_msg, this);
      s != NATS_OK)
    return nats_status(s, "subscribing to " + subject);
  sub_.reset(raw);
  // The reply inbox must never drop replies under load: lift the pending limits.
  natsSubscription_SetPendingLimits(raw, -1, -1);
  {
    std::lock_guard<std::mutex> lock(done_mu_);
    sub_done_ = false;
  }
  natsSubscription_SetOnCompleteCB(raw, &NatsInvoker::on_complete, this);
  return Status::OK();
}

void NatsInvoker::on_msg(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  static_cast<NatsInvoker*>(closure)->inbox_.post_message(MsgPtr(msg));
}

void NatsInvoker::on_complete(void* closure) {
  auto* self = static_cast<NatsInvoker*>(closure);
  std::lock_guard<std::mutex> lock(self->done_mu_);
  self->sub_done_ = true;
  self->done_cv_.notify_all();
}

Result<uint64_t> NatsInvoker::invoke(const std::string& subject, std::string_view payload,
                                     Callback cb) {
  if (!sub_) return Status(Errc::shutting_down, "the bridge is shutting down");
  uint64_t token = next_token_++;
  std::string reply = prefix_ + std::to_string(token);
  // A plain publish, not a natsMsg: every natsMsg nats.c frees goes through its garbage
  // collector thread, a wake-up per request that showed up as the bridge's largest cost.
  natsStatus s = natsConnection_PublishRequest(nc_, subject.c_str(), reply.c_str(), payload.data(),
                                               static_cast<int>(payload.size()));
  if (s == NATS_MAX_PAYLOAD)
    return Status(Errc::too_large, "request exceeds the NATS server's max payload");
  if (s != NATS_OK) return nats_status(s, "publishing to " + subject);
  pending_.emplace(token, Pending{std::chrono::steady_clock::now() + timeout_, std::move(cb)});
  if (!uv_is_active(reinterpret_cast<uv_handle_t*>(timer_))) {
    // Sweeping a few times per timeout is precise enough and costs one timer for all requests.
    uint64_t every = std::clamp<uint64_t>(timeout_.count() / 20, 5, 100);
    uv_timer_start(
        timer_, [](uv_timer_t* t) { static_cast<NatsInvoker*>(t->data)->sweep(); }, every, every);
  }
  return token;
}

void NatsInvoker::finish(uint64_t token, InvokeOutcome&& outcome) {
  auto it = pending_.find(token);
  if (it == pending_.end()) return;  // answered, timed out or cancelled already
  Callback cb = std::move(it->second.cb);
  pending_.erase(it);
  cb(std::move(outcome));
  if (pending_.empty()) uv_timer_stop(timer_);
}

void NatsInvoker::cancel(uint64_t token) {
  finish(token, InvokeOutcome{InvokeOutcome::Kind::cancelled, nullptr});
}

void NatsInvoker::on_reply(MsgPtr msg) {
  std::string_view subject = natsMsg_GetSubject(msg.get());
  if (subject.size() <= prefix_.size()) return;
  std::string_view tail = subject.substr(prefix_.size());
  uint64_t token = 0;
  auto [end, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), token);
  if (ec != std::errc() || end != tail.data() + tail.size()) return;
  InvokeOutcome outcome;
  if (natsMsg_IsNoResponders(msg.get())) {
    outcome.kind = InvokeOutcome::Kind::no_responders;
  } else {
    outcome.kind = InvokeOutcome::Kind::reply;
    outcome.msg = std::move(msg);
  }
  finish(token, std::move(outcome));
}

void NatsInvoker::sweep() {
  auto now = std::chrono::steady_clock::now();
  std::vector<uint64_t> overdue;
  for (auto& [token, p] : pending_)
    if (p.deadline <= now) overdue.push_back(token);
  for (uint64_t token : overdue)
    finish(token, InvokeOutcome{InvokeOutcome::Kind::timeout, nullptr});
}

void NatsInvoker::close() {
  if (timer_ == nullptr) return;
  std::vector<uint64_t> tokens;
  for (auto& [token, p] : pending_) tokens.push_back(token);
  for (uint64_t token : tokens) cancel(token);
  if (sub_) {
    natsSubscription_Unsubscribe(sub_.get());
    sub_.reset();
  }
  uv_close(reinterpret_cast<uv_handle_t*>(timer_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  timer_ = nullptr;
}

void NatsInvoker::wait_closed(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(done_mu_);
  if (!done_cv_.wait_for(lock, timeout, [this] { return sub_done_; }))
    spdlog::warn("the reply subscription did not close in time");
}

}  // namespace natsfn
