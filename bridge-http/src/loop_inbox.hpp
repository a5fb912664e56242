#pragma once
// The one way into the bridge's libuv loop from other threads (the same pattern as the
// sidecar's). nats.c delivers replies and the binding watcher delivers changes on their own
// threads; they queue here and uv_async_send wakes the loop, which drains everything queued
// (async sends coalesce, so one wake-up may carry many items).
//
// Lock order: LoopInbox::mu_ is a leaf lock. Nothing else is taken while holding it.

#include <uv.h>

#include <functional>
#include <mutex>
#include <vector>

#include "core/nats_handles.hpp"

namespace natsfn {

class LoopInbox {
 public:
  using MessageHandler = std::function<void(MsgPtr)>;

  // Must be constructed and closed on the loop thread.
  LoopInbox(uv_loop_t* loop, MessageHandler on_message);
  ~LoopInbox() = default;  // close() frees the handle in its close callback
  LoopInbox(const LoopInbox&) = delete;
  LoopInbox& operator=(const LoopInbox&) = delete;

  // Any thread. Replies are the hot path and get their own queue; tasks are control events.
  // Returns false (and drops the item) once closed.
  bool post_message(MsgPtr msg);
  bool post(std::function<void()> task);

  // Loop thread. Stops accepting posts and closes the async handle.
  void close();

 private:
  static void on_async(uv_async_t* handle);
  void drain();

  uv_async_t* async_;
  MessageHandler on_message_;
  std::mutex mu_;
  bool closed_ = false;
  std::vector<MsgPtr> messages_;
  std::vector<std::function<void()>> tasks_;
};

}  // namespace natsfn
