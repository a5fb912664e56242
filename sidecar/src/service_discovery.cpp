#include "sidecar/src/service_discovery.hpp"

#include <spdlog/spdlog.h>

namespace natsfn {
namespace {

nlohmann::json header(const char* type, const ServiceIdentity& who) {
  return {{"type", type},
          {"name", kServiceName},
          {"id", who.id},
          {"version", who.version},
          {"metadata", who.metadata}};
}

}  // namespace

nlohmann::json ping_response(const ServiceIdentity& who) {
  return header("io.nats.micro.v1.ping_response", who);
}

nlohmann::json info_response(const ServiceIdentity& who, const std::vector<EndpointSnapshot>& eps) {
  auto j = header("io.nats.micro.v1.info_response", who);
  j["description"] = "natsfn sidecar: Lambda-style functions on NATS subjects";
  auto& out = j["endpoints"] = nlohmann::json::array();
  for (const auto& e : eps) {
    out.push_back({{"name", e.name},
                   {"subject", e.subject},
                   {"queue_group", e.queue_group},
                   {"metadata", e.metadata}});
  }
  return j;
}

nlohmann::json stats_response(const ServiceIdentity& who, const std::vector<EndpointSnapshot>& eps) {
  auto j = header("io.nats.micro.v1.stats_response", who);
  j["started"] = who.started;
  auto& out = j["endpoints"] = nlohmann::json::array();
  for (const auto& e : eps) {
    // ADR-32 counts time in nanoseconds.
    uint64_t total_ns = e.processing_us * 1000;
    out.push_back({{"name", e.name},
                   {"subject", e.subject},
                   {"queue_group", e.queue_group},
                   {"num_requests", e.num_requests},
                   {"num_errors", e.num_errors},
                   {"last_error", e.last_error},
                   {"processing_time", total_ns},
                   {"average_processing_time", e.num_requests ? total_ns / e.num_requests : 0}});
  }
  return j;
}

ServiceDiscovery::ServiceDiscovery(LoopSubscriber& subscriber, natsConnection* nc,
                                   ServiceIdentity who, Snapshot endpoints)
    : subscriber_(subscriber), nc_(nc), who_(std::move(who)), endpoints_(std::move(endpoints)) {}

Status ServiceDiscovery::start() {
  const std::pair<const char*, Verb> verbs[] = {
      {"PING", Verb::ping}, {"INFO", Verb::info}, {"STATS", Verb::stats}};
  for (auto [word, verb] : verbs) {
    std::string base = std::string("$SRV.") + word;
    for (const std::string& subject :
         {base, base + "." + kServiceName, base + "." + kServiceName + "." + who_.id}) {
      auto sub = subscriber_.subscribe(subject, "", [this, verb](MsgPtr msg) {
        answer(verb, msg.get());
      });
      if (!sub) return sub.status();
    }
  }
  return Status::OK();
}

void ServiceDiscovery::answer(Verb verb, natsMsg* request) {
  const char* reply = natsMsg_GetReply(request);
  if (reply == nullptr || *reply == '\0') return;
  nlohmann::json body;
  switch (verb) {
    case Verb::ping: body = ping_response(who_); break;
    case Verb::info: body = info_response(who_, endpoints_()); break;
    case Verb::stats: body = stats_response(who_, endpoints_()); break;
  }
  // Function names and errors come from users: never let a bad byte throw on the loop.
  std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  natsStatus s = natsConnection_Publish(nc_, reply, text.data(), static_cast<int>(text.size()));
  if (s != NATS_OK) spdlog::warn("$SRV reply to {}: {}", reply, natsStatus_GetText(s));
}

}  // namespace natsfn
