#pragma once
// The bridge's way into its loop: NATS replies from nats.c threads, binding changes from the
// watcher thread.

#include "core/loop_queue.hpp"
#include "core/nats_handles.hpp"

namespace natsfn {

using LoopInbox = LoopQueue<MsgPtr>;

}  // namespace natsfn
