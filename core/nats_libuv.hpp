#pragma once
// nats.c's libuv adapter, wrapped once: a connection attached to a loop does its socket reads and
// writes on that loop's thread. Everything published from the loop during one iteration leaves in
// one write, and no reader or flusher thread sits between the socket and the loop.
//
// Such a connection must never make a blocking request from the loop thread (the reply could only
// be read by the loop that is blocked), so JetStream and KV calls belong on another connection.

#include <uv.h>

#include "core/status.hpp"

namespace natsfn {

// Call on the loop's own thread, before connecting.
Status use_event_loop(natsOptions* opts, uv_loop_t* loop);

}  // namespace natsfn
