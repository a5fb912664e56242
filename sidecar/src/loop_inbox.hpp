#pragma once
// The sidecar's way into its loop: invocations from nats.c delivery threads, catalogue changes
// from the KV watcher threads.

#include "core/loop_queue.hpp"
#include "sidecar/src/invocation.hpp"

namespace natsfn {

using LoopInbox = LoopQueue<Invocation>;

}  // namespace natsfn
