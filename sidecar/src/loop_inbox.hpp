#pragma once
// The sidecar's way into its loop from other threads: catalogue changes from the KV watcher
// threads and finished package fetches, as tasks. NATS messages do not come this way: they are
// parsed and handed over on the loop thread itself (core/loop_subscriber.hpp).

#include "core/loop_queue.hpp"

namespace natsfn {

struct NoMessages {};
using LoopInbox = LoopQueue<NoMessages>;

}  // namespace natsfn
