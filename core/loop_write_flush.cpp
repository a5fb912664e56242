#include "core/loop_write_flush.hpp"

namespace natsfn {

LoopWriteFlush::LoopWriteFlush(uv_loop_t* loop, natsConnection* nc)
    : nc_(nc), check_(new uv_check_t) {
  uv_check_init(loop, check_);
  check_->data = this;
  uv_check_start(check_, [](uv_check_t* h) {
    auto* self = static_cast<LoopWriteFlush*>(h->data);
    // Nothing buffered: calling on would only toggle nats.c's write interest for nothing.
    if (natsConnection_Buffered(self->nc_) > 0) natsConnection_ProcessWriteEvent(self->nc_);
  });
  // The handle must not keep the loop alive on its own.
  uv_unref(reinterpret_cast<uv_handle_t*>(check_));
}

void LoopWriteFlush::close() {
  if (check_ == nullptr) return;
  uv_check_stop(check_);
  uv_close(reinterpret_cast<uv_handle_t*>(check_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_check_t*>(h); });
  check_ = nullptr;
}

}  // namespace natsfn
