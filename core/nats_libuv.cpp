#include "core/nats_libuv.hpp"

#include <atomic>

// The adapter header defines its functions: this must be the only file that includes it.
#include <nats/adapters/libuv.h>

namespace natsfn {
namespace {

// Deferred write interest (see defer_loop_writes). nats.c turns write interest on for every
// flush and off once the buffer is out; through the adapter each toggle is a uv_poll_start, and
// libuv turns each into epoll_ctl calls (strace at K=1: three per request, one of them failing
// with EEXIST before a retry). On the loop thread we only note the request; the loop writes at
// the end of its iteration and arms the poll handle only if the socket was full.
// One loop-attached connection per process (see the header), so one slot each.
thread_local const std::function<void()>* t_on_write_requested = nullptr;
std::atomic<void*> g_deferred{nullptr};  // adapter state whose write is pending on the loop
std::atomic<void*> g_armed{nullptr};     // adapter state with write interest really on

void clear_if(std::atomic<void*>& slot, void* ud) {
  void* expected = ud;
  slot.compare_exchange_strong(expected, nullptr);
}

void set_armed(void* ud, bool on) {
  if (on)
    g_armed.store(ud);
  else
    clear_if(g_armed, ud);
}

bool take_armed(void* ud) {
  void* expected = ud;
  return g_armed.compare_exchange_strong(expected, nullptr);
}

natsStatus write_interest(void* ud, bool add) {
  const std::function<void()>* on_requested = t_on_write_requested;
  if (on_requested != nullptr) {
    if (add) {
      g_deferred.store(ud);
      (*on_requested)();
      return NATS_OK;
    }
    clear_if(g_deferred, ud);
    return take_armed(ud) ? natsLibuv_Write(ud, false) : NATS_OK;
  }
  // Another thread (nats.c's timer sending a PING, a reconnect): the adapter's own path, which
  // hands the change to the loop.
  set_armed(ud, add);
  return natsLibuv_Write(ud, add);
}

natsStatus detach(void* ud) {
  clear_if(g_deferred, ud);
  clear_if(g_armed, ud);
  return natsLibuv_Detach(ud);
}

}  // namespace

Status use_event_loop(natsOptions* opts, uv_loop_t* loop) {
  natsLibuv_Init();
  natsLibuv_SetThreadLocalLoop(loop);
  return nats_status(natsOptions_SetEventLoop(opts, loop, natsLibuv_Attach, natsLibuv_Read,
                                              write_interest, detach),
                     "attaching NATS to the event loop");
}

void defer_loop_writes(const std::function<void()>* on_requested) {
  t_on_write_requested = on_requested;
}

void complete_deferred_write(natsConnection* nc) {
  void* ud = g_deferred.load();
  if (ud == nullptr) return;
  natsConnection_ProcessWriteEvent(nc);  // all out: nats.c turns interest off, which clears it
  if (g_deferred.load() != ud) return;
  // The socket took only part (or the connection is between sockets): the poll handle finishes
  // the job when the socket is writable again.
  g_deferred.store(nullptr);
  if (natsConnection_Buffered(nc) > 0) {
    set_armed(ud, true);
    natsLibuv_Write(ud, true);
  }
}

}  // namespace natsfn
