#pragma once
// The one way into the libuv loop from other threads. nats.c delivery threads and the KV watcher
// threads post here; uv_async_send wakes the loop, which drains everything queued (async sends
// coalesce, so one wake-up may carry many items).
//
// Lock order: LoopInbox::mu_ is a leaf lock. Nothing else is taken while holding it.

#include <uv.h>

#include <functional>
#include <mutex>
#include <vector>

#include "sidecar/src/invocation.hpp"

namespace natsfn {

class LoopInbox {
 public:
  using MessageHandler = std::function<void(Invocation&&)>;

  // Must be constructed and closed on the loop thread.
  LoopInbox(uv_loop_t* loop, MessageHandler on_message);
  ~LoopInbox();
  LoopInbox(const LoopInbox&) = delete;
  LoopInbox& operator=(const LoopInbox&) = delete;

  // Any thread. Messages are the hot path and get their own queue; tasks are control events.
  // Within one wake-up, messages run before tasks, so a task posted after a message (such as
  // "subscription closed") never overtakes it.
  void post_message(Invocation&& inv);
  void post(std::function<void()> task);

  // Loop thread. Stops accepting posts and closes the async handle.
  void close();

 private:
  static void on_async(uv_async_t* handle);
  void drain();

  uv_async_t* async_;
  MessageHandler on_message_;
  std::mutex mu_;
  bool closed_ = false;
  std::vector<Invocation> messages_;
  std::vector<std::function<void()>> tasks_;
};

}  // namespace natsfn
