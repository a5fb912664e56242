#include "bridge-http/src/loop_inbox.hpp"

namespace natsfn {

LoopInbox::LoopInbox(uv_loop_t* loop, MessageHandler on_message)
    : async_(new uv_async_t), on_message_(std::move(on_message)) {
  uv_async_init(loop, async_, &LoopInbox::on_async);
  async_->data = this;
}

bool LoopInbox::post_message(MsgPtr msg) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return false;  // the message is freed by its MsgPtr here
    messages_.push_back(std::move(msg));
  }
  uv_async_send(async_);
  return true;
}

bool LoopInbox::post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return false;
    tasks_.push_back(std::move(task));
  }
  uv_async_send(async_);
  return true;
}

void LoopInbox::close() {
  std::vector<MsgPtr> messages;
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

void LoopInbox::on_async(uv_async_t* handle) {
  if (handle->data != nullptr) static_cast<LoopInbox*>(handle->data)->drain();
}

void LoopInbox::drain() {
  std::vector<MsgPtr> messages;
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
