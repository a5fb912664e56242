#pragma once
// natsMsg_Destroy hands every message to nats.c's garbage-collector thread and wakes it when it
// sleeps: one thread wake-up per message, twice per request in the sidecar (the request and its
// reply), on a machine where each wake-up costs more than the work around it. A loop thread that
// installs a MsgReaper makes MsgPtr park messages instead; the reaper destroys them a batch at a
// time, a few milliseconds later, so nats.c's collector wakes once per batch.
//
// MsgPtrs released on any other thread (nats.c callbacks, CLI, tests) are destroyed at once.

#include <nats/nats.h>
#include <uv.h>

#include <vector>

namespace natsfn {

class MsgReaper {
 public:
  // Installs itself for the calling thread, which must be the loop's.
  explicit MsgReaper(uv_loop_t* loop);
  ~MsgReaper();  // destroys what is parked; close() must have run if the loop is still used
  MsgReaper(const MsgReaper&) = delete;
  MsgReaper& operator=(const MsgReaper&) = delete;

  // Loop thread: destroys what is parked, uninstalls, closes the timer.
  void close();

  // MsgPtr's deleter.
  static void release(natsMsg* msg) noexcept;

 private:
  void park(natsMsg* msg);
  void flush();

  std::vector<natsMsg*> parked_;
  uv_timer_t* timer_;  // freed in its close callback
};

}  // namespace natsfn
