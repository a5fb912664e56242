#pragma once
// Writes what the loop published during this iteration before the loop sleeps again.
//
// On an event loop nats.c writes only once the loop reports the socket writable: a reply
// published now leaves in the next iteration, after another epoll_wait and two epoll_ctl calls
// (write interest on, then off). A uv_check handle, which runs right after the poll phase, hands
// the buffer to natsConnection_ProcessWriteEvent instead (the adapter's own entry point, on the
// loop thread as it expects): one write per iteration, so replies still batch, without the extra
// round. If the socket is full nats.c keeps the rest and its write interest finishes the job.
//
// Loop thread only.

#include <nats/nats.h>
#include <uv.h>

namespace natsfn {

class LoopWriteFlush {
 public:
  LoopWriteFlush(uv_loop_t* loop, natsConnection* nc);
  ~LoopWriteFlush() = default;  // close() frees the handle
  LoopWriteFlush(const LoopWriteFlush&) = delete;
  LoopWriteFlush& operator=(const LoopWriteFlush&) = delete;

  void close();

 private:
  natsConnection* nc_;
  uv_check_t* check_;
};

}  // namespace natsfn
