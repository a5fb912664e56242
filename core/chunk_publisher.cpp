#include "core/chunk_publisher.hpp"
#include "core/connection.hpp"

#include <nlohmann/json.hpp>

namespace natsfn {

Result<ChunkPublisher> ChunkPublisher::start(natsConnection* nc, std::string subject,
                                             std::string stream, int window, int64_t timeout_ms) {
  ChunkPublisher p;
  p.nc_ = nc;
  p.subject_ = std::move(subject);
  p.stream_ = std::move(stream);
  p.window_ = window < 1 ? 1 : window;
  p.timeout_ms_ = timeout_ms;
  auto inbox = new_inbox();
  if (!inbox) return inbox.status();
  p.inbox_ = std::move(inbox).value();
  natsSubscription* sub = nullptr;
  if (auto s = natsConnection_SubscribeSync(&sub, nc, p.inbox_.c_str()); s != NATS_OK) {
    return nats_status(s, "subscribing to publish acks");
  }
  p.acks_.reset(sub);
  return p;
}

Status ChunkPublisher::publish(const void* data, size_t len) {
  while (outstanding_ >= window_) {
    if (auto st = wait_one(); !st) return st;
  }
  auto s = natsConnection_PublishRequest(nc_, subject_.c_str(), inbox_.c_str(), data,
                                         static_cast<int>(len));
  if (s != NATS_OK) return nats_status(s, "publishing to " + subject_);
  ++outstanding_;
  ++published_;
  return Status::OK();
}

Status ChunkPublisher::finish() {
  while (outstanding_ > 0) {
    if (auto st = wait_one(); !st) return st;
  }
  return Status::OK();
}

void ChunkPublisher::settle() {
  // Refusals no longer matter here, only that the server has answered for every message.
  while (outstanding_ > 0) {
    natsMsg* raw = nullptr;
    if (natsSubscription_NextMsg(&raw, acks_.get(), timeout_ms_) != NATS_OK) return;
    natsMsg_Destroy(raw);
    --outstanding_;
  }
}

Status ChunkPublisher::wait_one() {
  natsMsg* raw = nullptr;
  auto s = natsSubscription_NextMsg(&raw, acks_.get(), timeout_ms_);
  if (s != NATS_OK) return nats_status(s, "waiting for JetStream ack on " + subject_);
  MsgPtr msg(raw);
  --outstanding_;
  if (natsMsg_IsNoResponders(msg.get())) {
    return Status(Errc::no_responders, "no JetStream stream stores " + subject_);
  }
  std::string_view body(natsMsg_GetData(msg.get()), natsMsg_GetDataLength(msg.get()));
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status(Errc::nats, "unexpected JetStream ack on " + subject_ + ": " + std::string(body));
  }
  if (auto err = j.find("error"); err != j.end()) {
    std::string desc = err->is_object() ? err->value("description", err->dump()) : err->dump();
    return Status(Errc::nats, "JetStream refused a message on " + subject_ + ": " + desc);
  }
  if (j.value("stream", std::string()) != stream_) {
    return Status(Errc::nats, "message on " + subject_ + " was stored in stream '" +
                                  j.value("stream", std::string()) + "', expected " + stream_);
  }
  return Status::OK();
}

}  // namespace natsfn
