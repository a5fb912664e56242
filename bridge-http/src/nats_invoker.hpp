#pragma once
// Asynchronous NATS requests for the loop: one wildcard inbox subscription (`_INBOX.<id>.*`),
// one token per request, replies matched by token. Nothing here blocks: a request is a publish,
// the reply arrives on nats.c's delivery thread and is posted to the loop through the
// LoopInbox, and a sweep timer on the loop turns overdue requests into timeouts.
//
// Everything but the subscription callback runs on the loop thread.
//
// Why not core/loop_subscriber.hpp, which spares the sidecar a thread hop per message: its sync
// subscriptions go through natsSubscription_NextMsg, which swallows the server's no-responders
// status message and reports only NATS_NO_RESPONDERS, without the token saying which request got
// no sidecar. The bridge needs that token for its 503. (Measured: the hop is not what the bridge
// spends its time on; a sync inbox changed its CPU per request by less than run-to-run noise.)

#include <uv.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "bridge-http/src/http_message.hpp"
#include "bridge-http/src/loop_inbox.hpp"
#include "core/nats_handles.hpp"
#include "core/status.hpp"

namespace natsfn {

struct InvokeOutcome {
  enum class Kind { reply, no_responders, timeout, cancelled };
  Kind kind = Kind::reply;
  MsgPtr msg;  // the reply, for Kind::reply
};

class NatsInvoker {
 public:
  using Callback = std::function<void(InvokeOutcome&&)>;

  NatsInvoker(uv_loop_t* loop, natsConnection* nc, LoopInbox& inbox, int64_t timeout_ms);
  ~NatsInvoker();
  NatsInvoker(const NatsInvoker&) = delete;
  NatsInvoker& operator=(const NatsInvoker&) = delete;

  // Subscribes to the inbox wildcard.
  Status start();

  // Publishes a request. On success the callback runs later, exactly once, on the loop thread;
  // on failure (too large for the server, connection closed) it never runs.
  Result<uint64_t> invoke(const std::string& subject, std::string_view payload, Callback cb);
  // Runs the callback now with Kind::cancelled; a reply that arrives later is dropped.
  void cancel(uint64_t token);
  size_t in_flight() const { return pending_.size(); }

  // Loop thread: handles a reply the LoopInbox delivered.
  void on_reply(MsgPtr msg);

  // Loop thread: unsubscribes and closes the timer; pending requests are cancelled.
  void close();
  // Any thread but nats.c's: waits until nats.c has released the subscription, so the
  // LoopInbox it posts to may be destroyed.
  void wait_closed(std::chrono::milliseconds timeout);

 private:
  struct Pending {
    std::chrono::steady_clock::time_point deadline;
    Callback cb;
  };
  static void on_msg(natsConnection*, natsSubscription*, natsMsg* msg, void* closure);
  static void on_complete(void* closure);
  void sweep();
  void finish(uint64_t token, InvokeOutcome&& outcome);

  uv_loop_t* loop_;
  natsConnection* nc_;
  LoopInbox& inbox_;
  std::chrono::milliseconds timeout_;
  std::string prefix_;  // "_INBOX.<nuid>."
  SubscriptionPtr sub_;
  uv_timer_t* timer_ = nullptr;  // freed in its close callback
  uint64_t next_token_ = 1;
  std::unordered_map<uint64_t, Pending> pending_;

  std::mutex done_mu_;  // leaf lock: guards sub_done_ between nats.c's thread and wait_closed
  std::condition_variable done_cv_;
  bool sub_done_ = true;
};

}  // namespace natsfn
