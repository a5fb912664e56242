#include "sidecar/src/loop_inbox.hpp"

namespace natsfn {

LoopInbox::LoopInbox(uv_loop_t* loop, MessageHandler on_message)
    : async_(new uv_async_t), on_message_(std::move(on_message)) {
  uv_async_init(loop, async_, &LoopInbox::on_async);
  async_->data = this;
}

LoopInbox::~LoopInbox() {
  // close() must have run on the loop; the handle frees itself in its close callback.
}

void LoopInbox::post_message(Invocation&& inv) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;  // shutting down: the message is dropped, its MsgPtr freed here
    messages_.push_back(std::move(inv));
  }
  uv_async_send(async_);
}

void LoopInbox::post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    tasks_.push_back(std::move(task));
  }
  uv_async_send(async_);
}

void LoopInbox::close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    closed_ = true;
    messages_.clear();
    tasks_.clear();
  }
  async_->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(async_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
}

void LoopInbox::on_async(uv_async_t* handle) {
  if (handle->data != nullptr) static_cast<LoopInbox*>(handle->data)->drain();
}

void LoopInbox::drain() {
  std::vector<Invocation> messages;
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    messages.swap(messages_);
    tasks.swap(tasks_);
  }
  for (auto& m : messages) on_message_(std::move(m));
  for (auto& t : tasks) t();
}

}  // namespace natsfn
