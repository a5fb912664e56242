#include "core/nats_libuv.hpp"

// The adapter header defines its functions: this must be the only file that includes it.
#include <nats/adapters/libuv.h>

namespace natsfn {

Status use_event_loop(natsOptions* opts, uv_loop_t* loop) {
  natsLibuv_Init();
  natsLibuv_SetThreadLocalLoop(loop);
  return nats_status(natsOptions_SetEventLoop(opts, loop, natsLibuv_Attach, natsLibuv_Read,
                                              natsLibuv_Write, natsLibuv_Detach),
                     "attaching NATS to the event loop");
}

}  // namespace natsfn
