#include "core/loop_subscriber.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace natsfn {
namespace {

// While a drain is under way the sweep runs this often: it is what notices a drain that finished
// on nats.c's drain thread.
constexpr uint64_t kDrainSweepMs = 10;

}  // namespace

class LoopSubscriber::Subscription {
 public:
  SubscriptionPtr sub;
  std::string subject;
  Handler handler;
  bool draining = false;
  bool done = false;  // unsubscribed or drained: removed at the end of the current poll
  bool busy = false;  // in busy_
  size_t taken_since_sweep = 0;
  std::function<void()> on_drained;
};

LoopSubscriber::LoopSubscriber(uv_loop_t* loop, natsConnection* nc, uint64_t sweep_ms)
    : loop_(loop), nc_(nc), sweep_ms_(sweep_ms) {
  natsStatistics_Create(&stats_);
  check_ = new uv_check_t;
  uv_check_init(loop_, check_);
  check_->data = this;
  uv_check_start(check_, [](uv_check_t* h) { static_cast<LoopSubscriber*>(h->data)->poll(false); });
  timer_ = new uv_timer_t;
  uv_timer_init(loop_, timer_);
  timer_->data = this;
  arm_timer();
}

LoopSubscriber::~LoopSubscriber() {
  if (stats_ != nullptr) natsStatistics_Destroy(stats_);
}

Result<LoopSubscriber::Subscription*> LoopSubscriber::subscribe(const std::string& subject,
                                                                const std::string& queue,
                                                                Handler handler,
                                                                int max_pending_msgs,
                                                                int max_pending_bytes) {
  if (check_ == nullptr) return Status(Errc::shutting_down, "subscriber is closed");
  natsSubscription* raw = nullptr;
  natsStatus s = queue.empty()
                     ? natsConnection_SubscribeSync(&raw, nc_, subject.c_str())
                     : natsConnection_QueueSubscribeSync(&raw, nc_, subject.c_str(), queue.c_str());
  if (s != NATS_OK) return nats_status(s, "subscribing to " + subject);
  natsSubscription_SetPendingLimits(raw, max_pending_msgs, max_pending_bytes);
  auto sub = std::make_unique<Subscription>();
  sub->sub.reset(raw);
  sub->subject = subject;
  sub->handler = std::move(handler);
  Subscription* handle = sub.get();
  subs_.push_back(std::move(sub));
  return handle;
}

void LoopSubscriber::drain(Subscription* sub, std::function<void()> on_drained) {
  if (sub == nullptr || sub->done || sub->draining) return;
  sub->draining = true;
  sub->on_drained = std::move(on_drained);
  // nats.c sends UNSUB, then a PING on its drain thread; once the PONG is in, nothing more can
  // arrive and the drain completes when the list is empty.
  if (natsStatus s = natsSubscription_Drain(sub->sub.get()); s != NATS_OK) {
    spdlog::warn("draining {}: {}; unsubscribing", sub->subject, natsStatus_GetText(s));
    natsSubscription_Unsubscribe(sub->sub.get());
    sub->done = true;
  }
  // on_drained always runs later, from a poll: never inside the caller's own call.
  arm_timer();
}

void LoopSubscriber::unsubscribe(Subscription* sub) {
  if (sub == nullptr || sub->done) return;
  natsSubscription_Unsubscribe(sub->sub.get());
  sub->done = true;
  sub->on_drained = nullptr;
  if (polling_) return;  // erased when the poll is over
  std::erase(busy_, sub);
  std::erase_if(subs_, [sub](const auto& s) { return s.get() == sub; });
}

size_t LoopSubscriber::draining() const {
  size_t n = 0;
  for (auto& s : subs_) n += s->draining ? 1 : 0;
  return n;
}

void LoopSubscriber::poll(bool full_sweep) {
  if (polling_ || check_ == nullptr) return;
  uint64_t in_msgs = 0;
  natsConnection_GetStats(nc_, stats_);
  natsStatistics_GetCounts(stats_, &in_msgs, nullptr, nullptr, nullptr, nullptr);
  const uint64_t arrived = in_msgs - seen_in_msgs_;
  if (!full_sweep && arrived == 0) return;
  seen_in_msgs_ = in_msgs;
  polling_ = true;
  // By index: a handler may subscribe (appending) while we iterate; nothing is erased until the
  // loop is over. The counter also counts messages nobody takes (for a subscription just
  // unsubscribed, or dropped as a slow consumer): then the quiet ones are looked at in vain,
  // which costs time, never a message.
  size_t taken = 0;
  for (size_t i = 0; i < busy_.size(); ++i)
    if (!busy_[i]->done) taken += take_messages(*busy_[i]);
  if (full_sweep || taken < arrived) take_from_quiet();
  polling_ = false;
  if (full_sweep) cool_down();
  reap_drained();
}

void LoopSubscriber::take_from_quiet() {
  for (size_t i = 0; i < subs_.size(); ++i) {
    Subscription& s = *subs_[i];
    if (s.done || s.busy) continue;
    if (take_messages(s) > 0) {
      s.busy = true;
      busy_.push_back(&s);
    }
  }
}

void LoopSubscriber::cool_down() {
  std::erase_if(busy_, [](Subscription* s) {
    bool quiet = s->taken_since_sweep == 0;
    s->taken_since_sweep = 0;
    if (quiet) s->busy = false;
    return quiet;
  });
}

size_t LoopSubscriber::take_messages(Subscription& s) {
  int pending = 0;
  if (natsSubscription_GetPending(s.sub.get(), &pending, nullptr) != NATS_OK) {
    // Closed under us: the drain completed (nats.c removes a drained sub when its list empties),
    // or the connection closed.
    if (!s.draining) spdlog::warn("subscription {} closed by the connection", s.subject);
    s.done = true;
    return 0;
  }
  // Only what is there now: messages parsed by a handler's side effects wait for the next poll.
  size_t taken = 0;
  for (int n = 0; n < pending && !s.done; ++n) {
    natsMsg* raw = nullptr;
    natsStatus st = natsSubscription_NextMsg(&raw, s.sub.get(), 0);
    if (st == NATS_OK) {
      ++taken;
      s.handler(MsgPtr(raw));
    } else if (st == NATS_SLOW_CONSUMER) {
      spdlog::warn("subscription {}: slow consumer, messages were dropped", s.subject);
    } else if (st == NATS_TIMEOUT) {
      break;
    } else if (st == NATS_NO_RESPONDERS) {
      // A status message for a request inbox; nats.c has consumed it and there is nothing to hand on.
      ++taken;
    } else {
      if (!s.draining) spdlog::warn("subscription {}: {}", s.subject, natsStatus_GetText(st));
      s.done = true;
    }
  }
  s.taken_since_sweep += taken;
  return taken;
}

void LoopSubscriber::reap_drained() {
  std::vector<std::function<void()>> finished;
  // Mark first: busy_ must not keep a pointer to a subscription erased below. By index, as in
  // poll: the handlers run here too.
  polling_ = true;
  for (size_t i = 0; i < subs_.size(); ++i) {
    Subscription& s = *subs_[i];
    if (s.draining && !s.done &&
        natsSubscription_DrainCompletionStatus(s.sub.get()) != NATS_ILLEGAL_STATE) {
      // Complete with an empty list (nats.c's drain thread saw nothing pending) or timed out.
      take_messages(s);
      s.done = true;
    }
  }
  polling_ = false;
  std::erase_if(busy_, [](Subscription* s) { return s->done; });
  for (auto it = subs_.begin(); it != subs_.end();) {
    Subscription& s = **it;
    if (!s.done) {
      ++it;
      continue;
    }
    if (s.on_drained) finished.push_back(std::move(s.on_drained));
    it = subs_.erase(it);
  }
  arm_timer();
  for (auto& f : finished) f();
}

void LoopSubscriber::arm_timer() {
  if (timer_ == nullptr) return;
  uint64_t every = draining() > 0 ? std::min(kDrainSweepMs, sweep_ms_) : sweep_ms_;
  if (uv_is_active(reinterpret_cast<uv_handle_t*>(timer_)) && uv_timer_get_repeat(timer_) == every)
    return;
  uv_timer_start(
      timer_, [](uv_timer_t* t) { static_cast<LoopSubscriber*>(t->data)->poll(true); }, every,
      every);
}

void LoopSubscriber::close() {
  if (check_ == nullptr) return;
  for (auto& s : subs_)
    if (!s->done) natsSubscription_Unsubscribe(s->sub.get());
  busy_.clear();
  subs_.clear();
  uv_check_stop(check_);
  uv_close(reinterpret_cast<uv_handle_t*>(check_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_check_t*>(h); });
  uv_timer_stop(timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(timer_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  check_ = nullptr;
  timer_ = nullptr;
}

}  // namespace natsfn
