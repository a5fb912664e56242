#include "core/loop_write_flush.hpp"

#include "core/nats_libuv.hpp"

namespace natsfn {

LoopWriteFlush::LoopWriteFlush(uv_loop_t* loop, natsConnection* nc)
    : nc_(nc), check_(new uv_check_t), idle_(new uv_idle_t) {
  uv_check_init(loop, check_);
  check_->data = this;
  uv_check_start(check_, [](uv_check_t* h) { static_cast<LoopWriteFlush*>(h->data)->flush(); });
  // The check must not keep the loop alive on its own; the idle handle only runs while a write
  // waits, and then it must (a request made outside the poll phase still goes out).
  uv_unref(reinterpret_cast<uv_handle_t*>(check_));
  uv_idle_init(loop, idle_);
  idle_->data = this;
  on_requested_ = [this] {
    if (!uv_is_active(reinterpret_cast<uv_handle_t*>(idle_)))
      uv_idle_start(idle_, [](uv_idle_t*) {});
  };
  // What nats.c buffered before (the connect's SUBs) already armed the poll handle itself.
  defer_loop_writes(&on_requested_);
}

LoopWriteFlush::~LoopWriteFlush() = default;

void LoopWriteFlush::flush() {
  uv_idle_stop(idle_);
  complete_deferred_write(nc_);
}

void LoopWriteFlush::close() {
  if (check_ == nullptr) return;
  flush();
  defer_loop_writes(nullptr);
  uv_check_stop(check_);
  uv_close(reinterpret_cast<uv_handle_t*>(check_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_check_t*>(h); });
  uv_close(reinterpret_cast<uv_handle_t*>(idle_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_idle_t*>(h); });
  check_ = nullptr;
  idle_ = nullptr;
}

}  // namespace natsfn
