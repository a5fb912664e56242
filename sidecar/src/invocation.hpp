#pragma once
// One request on its way through the sidecar: the NATS message it came in as and what we know
// about it. Owned by exactly one place at a time (dispatcher → pool queue → busy worker).

#include <chrono>
#include <cstdint>
#include <string>

#include "core/nats_handles.hpp"
#include "core/request_id.hpp"

namespace natsfn {

using Clock = std::chrono::steady_clock;

struct Invocation {
  MsgPtr msg;
  std::string function;
  std::string binding;  // binding key when it came in on a bound subject; resolved on the loop
  std::string request_id;
  Clock::time_point received;  // when nats.c handed it over; durations include queueing
  bool cold = false;           // served by a worker started for it

  const char* reply_subject() const { return natsMsg_GetReply(msg.get()); }
  const char* subject() const { return natsMsg_GetSubject(msg.get()); }
  bool wants_reply() const {
    const char* r = reply_subject();
    return r != nullptr && *r != '\0';
  }
};


}  // namespace natsfn
