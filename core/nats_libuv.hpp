#pragma once
// nats.c's libuv adapter, wrapped once: a connection attached to a loop does its socket reads and
// writes on that loop's thread. Everything published from the loop during one iteration leaves in
// one write, and no reader or flusher thread sits between the socket and the loop.
//
// Such a connection must never make a blocking request from the loop thread (the reply could only
// be read by the loop that is blocked), so JetStream and KV calls belong on another connection.

#include <nats/nats.h>
#include <uv.h>

#include <functional>

#include "core/status.hpp"

namespace natsfn {

// Call on the loop's own thread, before connecting.
Status use_event_loop(natsOptions* opts, uv_loop_t* loop);

// Loop thread. From now on, when nats.c asks to watch the socket for writability from this
// thread, the poll handle is left alone and *on_requested is called instead; the loop must then
// call complete_deferred_write before it next blocks (core/loop_write_flush.hpp does both).
// nullptr turns deferral off. Deferral serves one loop-attached connection per process (each
// daemon has exactly one); another one in the same process would have to leave it off.
void defer_loop_writes(const std::function<void()>* on_requested);
// Loop thread: writes what nats.c has buffered; arms the poll handle only if the socket is full.
void complete_deferred_write(natsConnection* nc);

}  // namespace natsfn
