#pragma once
// The one way into a libuv loop from other threads. nats.c delivery threads and KV watcher
// threads post here; uv_async_send wakes the loop, which drains everything queued (async sends
// coalesce, so one wake-up may carry many items). The bridge queues NATS replies here; the
// sidecar only tasks (its messages arrive on the loop itself, core/loop_subscriber.hpp).
//
// Lock order: mu_ is a leaf lock. Nothing else is taken while holding it, and items are destroyed
// outside it.

#include <uv.h>

#include <functional>
#include <mutex>
#include <vector>

namespace natsfn {

template <class Message>
class LoopQueue {
 public:
  using MessageHandler = std::function<void(Message&&)>;

  // Constructed and closed on the loop thread.
  LoopQueue(uv_loop_t* loop, MessageHandler on_message)
      : async_(new uv_async_t), on_message_(std::move(on_message)) {
    uv_async_init(loop, async_, &LoopQueue::on_async);
    async_->data = this;
  }
  ~LoopQueue() = default;  // close() frees the handle in its close callback
  LoopQueue(const LoopQueue&) = delete;
  LoopQueue& operator=(const LoopQueue&) = delete;

  // Any thread. Messages are the hot path and get their own queue; tasks are control events.
  // Within one wake-up, messages run before tasks, so a task posted after a message (such as
  // "subscription closed") never overtakes it. Returns false, dropping the item, once closed.
  bool post_message(Message&& message) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return false;
      messages_.push_back(std::move(message));
    }
    uv_async_send(async_);
    return true;
  }
  bool post(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return false;
      tasks_.push_back(std::move(task));
    }
    uv_async_send(async_);
    return true;
  }

  // Loop thread. Stops accepting posts, drops what is queued and closes the async handle.
  void close() {
    std::vector<Message> messages;
    std::vector<std::function<void()>> tasks;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return;
      closed_ = true;
      messages.swap(messages_);
      tasks.swap(tasks_);
    }
    async_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(async_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
  }

 private:
  static void on_async(uv_async_t* handle) {
    if (handle->data != nullptr) static_cast<LoopQueue*>(handle->data)->drain();
  }
  void drain() {
    std::vector<Message> messages;
    std::vector<std::function<void()>> tasks;
    {
      std::lock_guard<std::mutex> lock(mu_);
      messages.swap(messages_);
      tasks.swap(tasks_);
    }
    for (auto& m : messages) on_message_(std::move(m));
    for (auto& t : tasks) t();
  }

  uv_async_t* async_;
  MessageHandler on_message_;
  std::mutex mu_;
  bool closed_ = false;
  std::vector<Message> messages_;
  std::vector<std::function<void()>> tasks_;
};

}  // namespace natsfn
