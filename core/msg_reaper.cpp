#include "core/msg_reaper.hpp"

#include "core/nats_handles.hpp"

namespace natsfn {
namespace {

// Long enough to batch many requests at low load, short enough that memory never piles up.
constexpr uint64_t kBatchMs = 5;
constexpr size_t kMaxParked = 512;

thread_local MsgReaper* t_reaper = nullptr;

}  // namespace

void MsgDeleter::operator()(natsMsg* msg) const noexcept { MsgReaper::release(msg); }

MsgReaper::MsgReaper(uv_loop_t* loop) : timer_(new uv_timer_t) {
  uv_timer_init(loop, timer_);
  timer_->data = this;
  parked_.reserve(kMaxParked);
  t_reaper = this;
}

MsgReaper::~MsgReaper() {
  flush();
  if (t_reaper == this) t_reaper = nullptr;
}

void MsgReaper::close() {
  flush();
  if (t_reaper == this) t_reaper = nullptr;
  if (timer_ == nullptr) return;
  uv_timer_stop(timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(timer_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  timer_ = nullptr;
}

void MsgReaper::release(natsMsg* msg) noexcept {
  if (msg == nullptr) return;
  if (t_reaper != nullptr)
    t_reaper->park(msg);
  else
    natsMsg_Destroy(msg);
}

void MsgReaper::park(natsMsg* msg) {
  parked_.push_back(msg);
  if (parked_.size() >= kMaxParked || timer_ == nullptr) {
    flush();
    return;
  }
  if (!uv_is_active(reinterpret_cast<uv_handle_t*>(timer_)))
    uv_timer_start(
        timer_, [](uv_timer_t* t) { static_cast<MsgReaper*>(t->data)->flush(); }, kBatchMs, 0);
}

void MsgReaper::flush() {
  for (natsMsg* m : parked_) natsMsg_Destroy(m);
  parked_.clear();
}

}  // namespace natsfn
