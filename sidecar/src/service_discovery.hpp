#pragma once
// ADR-32 service discovery: every sidecar answers `$SRV.PING|INFO|STATS`, `$SRV.<verb>.natsfn` and
// `$SRV.<verb>.natsfn.<id>` (plain subscriptions, no queue group: each instance answers), so NATS
// tooling (`nats micro ls|info|stats`, nats.js's services client) lists the sidecars of a cluster
// and each one's per-function request, error and processing-time counters.
//
// One endpoint per function: its canonical subject `natsfn.invoke.<function>` on the sidecar's
// queue group, with the runtime and the subjects bound to it as metadata. Counters are this
// sidecar's, since it started; a function's counters restart when it is recreated.
//
// Loop thread only (it reads the pools).

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/loop_subscriber.hpp"
#include "core/status.hpp"

namespace natsfn {

inline constexpr const char* kServiceName = "natsfn";

struct ServiceIdentity {
  std::string id;
  std::string version;  // semver
  std::string started;  // RFC 3339, UTC
  std::map<std::string, std::string> metadata;
};

struct EndpointSnapshot {
  std::string name;  // the function
  std::string subject;
  std::string queue_group;
  std::map<std::string, std::string> metadata;
  uint64_t num_requests = 0;
  uint64_t num_errors = 0;
  uint64_t processing_us = 0;
  std::string last_error;
};

// The three responses, as ADR-32's io.nats.micro.v1.*_response schemas.
nlohmann::json ping_response(const ServiceIdentity& who);
nlohmann::json info_response(const ServiceIdentity& who, const std::vector<EndpointSnapshot>& eps);
nlohmann::json stats_response(const ServiceIdentity& who, const std::vector<EndpointSnapshot>& eps);

class ServiceDiscovery {
 public:
  using Snapshot = std::function<std::vector<EndpointSnapshot>()>;

  ServiceDiscovery(LoopSubscriber& subscriber, natsConnection* nc, ServiceIdentity who,
                   Snapshot endpoints);
  // Subscribes the nine $SRV subjects; they go away with the subscriber.
  Status start();

 private:
  enum class Verb { ping, info, stats };
  void answer(Verb verb, natsMsg* request);

  LoopSubscriber& subscriber_;
  natsConnection* nc_;
  ServiceIdentity who_;
  Snapshot endpoints_;
};

}  // namespace natsfn
