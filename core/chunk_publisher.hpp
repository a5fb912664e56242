#pragma once
// Pipelined JetStream publishing to one subject: up to `window` messages in flight, each
// acknowledgement checked. It is what js_PublishAsync does, but with errors returned as values on
// the caller's thread instead of delivered to a callback on nats.c's thread, and with memory
// bounded by the window (nats.c copies each payload into its write buffer before publish returns).

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/nats_handles.hpp"
#include "core/status.hpp"

namespace natsfn {

class ChunkPublisher {
 public:
  // `stream` is the stream every ack must name; a different stream capturing the subject is an
  // error rather than a silent success.
  static Result<ChunkPublisher> start(natsConnection* nc, std::string subject, std::string stream,
                                      int window, int64_t timeout_ms);

  // Publishes one message; blocks while `window` acknowledgements are outstanding.
  Status publish(const void* data, size_t len);
  // Waits for every outstanding acknowledgement.
  Status finish();
  // After a failure: waits (best effort) until what was sent has been stored or refused, so a
  // purge issued next cannot be overtaken by a chunk still in flight. Stops at the first timeout.
  void settle();

  uint64_t published() const { return published_; }

 private:
  ChunkPublisher() = default;
  Status wait_one();

  natsConnection* nc_ = nullptr;
  SubscriptionPtr acks_;
  std::string inbox_;
  std::string subject_;
  std::string stream_;
  int window_ = 1;
  int outstanding_ = 0;
  int64_t timeout_ms_ = 5000;
  uint64_t published_ = 0;
};

}  // namespace natsfn
