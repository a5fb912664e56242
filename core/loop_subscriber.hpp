#pragma once
// Subscriptions whose messages reach the loop without leaving it.
//
// With nats.c's libuv adapter (core/nats_libuv.hpp) incoming messages are parsed on the loop
// thread, inside the socket's poll callback. An async subscription would then hand each message
// to a nats.c delivery thread, whose callback would have to post it back to the loop: two thread
// wake-ups per message, which on two cores cost more than everything else the sidecar does with
// it. A sync subscription leaves the message in its list instead, and a uv_check handle, which
// libuv runs right after the poll phase, takes it out, still on the loop thread.
//
// A connection-wide message counter (natsConnection_GetStats) tells the check whether anything
// arrived at all, and how much. The subscriptions that had messages lately are looked at first;
// the others only when those did not account for everything that arrived. So a request costs a
// look at a few busy subscriptions, not at all of them: a sidecar holds two per function, and
// scanning all of them for every message made the echo bench's K=1 p50 ~20 us slower with 400
// other functions bound (EXTRA_FUNCTIONS=400 bench/sidecar_bench.sh; ratio 0.74 -> 0.70x).
// A slow timer looks at every subscription anyway: it catches what the counter cannot see
// (drains that completed on nats.c's drain thread) and lets quiet subscriptions leave the busy
// list.
//
// Loop thread only, including construction. The connection must be attached to this loop.

#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/nats_handles.hpp"
#include "core/status.hpp"

namespace natsfn {

class LoopSubscriber {
 public:
  using Handler = std::function<void(MsgPtr)>;
  class Subscription;  // owned here; callers keep the pointer as a handle

  // sweep_ms: how often every subscription is looked at regardless of the counter.
  LoopSubscriber(uv_loop_t* loop, natsConnection* nc, uint64_t sweep_ms = 250);
  ~LoopSubscriber();  // close() must have run
  LoopSubscriber(const LoopSubscriber&) = delete;
  LoopSubscriber& operator=(const LoopSubscriber&) = delete;

  // queue may be empty for a plain subscription. The handler runs on the loop thread for every
  // message, in arrival order per subscription.
  Result<Subscription*> subscribe(const std::string& subject, const std::string& queue,
                                  Handler handler, int max_pending_msgs = 1 << 20,
                                  int max_pending_bytes = 256 << 20);
  // Tells the server to stop sending, keeps handling what is already on its way, then calls
  // on_drained (loop thread, never from inside this call) and forgets the subscription.
  void drain(Subscription* sub, std::function<void()> on_drained);
  // Stops at once; messages not yet handled are dropped.
  void unsubscribe(Subscription* sub);
  size_t draining() const;

  // Unsubscribes everything still open and closes the loop handles.
  void close();

 private:
  void poll(bool full_sweep);
  // Handles what is pending now; returns how many messages it consumed. Marks the subscription
  // done once it is closed.
  size_t take_messages(Subscription& sub);
  // Looks at every subscription that is not busy; those with messages become busy.
  void take_from_quiet();
  // Timer sweep: subscriptions without messages since the previous one leave busy_.
  void cool_down();
  void reap_drained();
  void arm_timer();

  uv_loop_t* loop_;
  natsConnection* nc_;
  natsStatistics* stats_ = nullptr;
  uint64_t seen_in_msgs_ = 0;
  uint64_t sweep_ms_;
  std::vector<std::unique_ptr<Subscription>> subs_;
  std::vector<Subscription*> busy_;  // had messages since the last sweep; a subset of subs_
  uv_check_t* check_ = nullptr;  // freed in its close callback
  uv_timer_t* timer_ = nullptr;  // likewise
  bool polling_ = false;          // a handler may subscribe or drain while we iterate
};

}  // namespace natsfn
