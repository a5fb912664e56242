#pragma once
// Replies as DESIGN's reply contract: the payload for every client, headers for those that
// understand them. Success carries Natsfn-Status 200; failures carry Lambda's error JSON and the
// ADR-32 service error headers.

#include <string>

#include "core/frame_codec.hpp"
#include "core/status.hpp"
#include "sidecar/src/invocation.hpp"

namespace natsfn {

// Names this sidecar in every reply (Natsfn-Sidecar header), so operators and tests can see
// which instance of a queue group answered. Set once at start-up, before any reply.
void set_sidecar_id(std::string id);
const std::string& sidecar_id();

// {"errorType":…,"errorMessage":…,"stackTrace":[…]}
std::string lambda_error_json(const ErrorBody& error);

// Publishes (or, without a reply subject, logs) the outcome. Never throws; a publish failure is
// logged with the function and request id.
void reply_success(natsConnection* nc, const Invocation& inv, const std::string& payload,
                   const Headers& headers);
void reply_error(natsConnection* nc, const Invocation& inv, Errc code, const ErrorBody& error);
inline void reply_error(natsConnection* nc, const Invocation& inv, const Status& status) {
  reply_error(nc, inv, status.code(), ErrorBody{status.type(), status.message(), {}});
}

}  // namespace natsfn
