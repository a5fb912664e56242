#include "bench/load/echo_responder.hpp"

namespace natsfn::bench {

EchoResponder::~EchoResponder() {
  if (sub_ != nullptr) {
    natsSubscription_Unsubscribe(sub_);
    natsSubscription_Destroy(sub_);
  }
}

Status EchoResponder::start(natsConnection* nc, const std::string& subject) {
  natsStatus s = natsConnection_Subscribe(&sub_, nc, subject.c_str(), &EchoResponder::on_msg, this);
  if (s == NATS_OK) s = natsSubscription_SetPendingLimits(sub_, -1, -1);
  if (s == NATS_OK) s = natsConnection_FlushTimeout(nc, 5000);
  return nats_status(s, "echo responder on " + subject);
}

void EchoResponder::on_msg(natsConnection* nc, natsSubscription*, natsMsg* msg, void* closure) {
  const char* reply = natsMsg_GetReply(msg);
  if (reply != nullptr && reply[0] != '\0') {
    natsConnection_Publish(nc, reply, natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
    static_cast<EchoResponder*>(closure)->answered_.fetch_add(1, std::memory_order_relaxed);
  }
  natsMsg_Destroy(msg);
}

}  // namespace natsfn::bench
