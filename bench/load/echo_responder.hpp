#pragma once
// The baseline: a raw nats.c responder that publishes each request's payload back to its reply
// subject. It is what a hand-written NATS service costs, with nothing between.

#include <nats/nats.h>

#include <atomic>
#include <string>

#include "core/status.hpp"

namespace natsfn::bench {

class EchoResponder {
 public:
  EchoResponder() = default;
  ~EchoResponder();
  EchoResponder(const EchoResponder&) = delete;
  EchoResponder& operator=(const EchoResponder&) = delete;

  // Subscribes on nc (which must outlive this object and should have send_asap set) and flushes
  // so the subscription is live at the server when this returns.
  Status start(natsConnection* nc, const std::string& subject);
  uint64_t answered() const { return answered_.load(); }

 private:
  static void on_msg(natsConnection* nc, natsSubscription* sub, natsMsg* msg, void* closure);

  natsSubscription* sub_ = nullptr;
  std::atomic<uint64_t> answered_{0};
};

}  // namespace natsfn::bench
