#pragma once
// Writes what the loop published during this iteration before the loop sleeps again.
//
// On an event loop nats.c writes only once the loop reports the socket writable: a reply
// published now would leave in the next iteration, after another epoll_wait, and every flush
// toggles write interest on the poll handle (epoll_ctl calls: three per request at K=1). With
// this object, nats.c's requests for write interest on the loop thread are only noted
// (core/nats_libuv.hpp); a uv_check handle, which runs right after the poll phase, writes the
// buffer with natsConnection_ProcessWriteEvent (the adapter's own entry point, on the loop thread
// as it expects). One write per iteration, so replies still batch; no extra round, no epoll_ctl.
// If the socket is full, write interest goes on for real and the adapter finishes the job.
//
// Loop thread only, one per loop-attached connection.

#include <nats/nats.h>
#include <uv.h>

#include <functional>

namespace natsfn {

class LoopWriteFlush {
 public:
  LoopWriteFlush(uv_loop_t* loop, natsConnection* nc);
  ~LoopWriteFlush();  // close() must have run
  LoopWriteFlush(const LoopWriteFlush&) = delete;
  LoopWriteFlush& operator=(const LoopWriteFlush&) = delete;

  // Writes what is pending, stops deferring and closes the handles.
  void close();

 private:
  void flush();

  natsConnection* nc_;
  uv_check_t* check_;  // freed in its close callback
  uv_idle_t* idle_;    // while a write waits: the loop must not block before the check runs
  std::function<void()> on_requested_;
};

}  // namespace natsfn
