#include "sidecar/src/reply.hpp"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

namespace natsfn {
namespace {

std::string g_sidecar_id;

int64_t micros_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t).count();
}

void publish(natsConnection* nc, const Invocation& inv, natsMsg* raw) {
  MsgPtr msg(raw);
  natsStatus s = natsConnection_PublishMsg(nc, msg.get());
  if (s == NATS_MAX_PAYLOAD) {
    // The result does not fit the server's max_payload: say so instead of going silent.
    spdlog::warn("[{}] [{}] reply exceeds the server's max payload", inv.function, inv.request_id);
    natsMsg* small = nullptr;
    std::string body = lambda_error_json(
        {"ResponseSizeTooLarge", "function result exceeds the NATS server's max payload", {}});
    if (natsMsg_Create(&small, inv.reply_subject(), nullptr, body.data(),
                       static_cast<int>(body.size())) == NATS_OK) {
      MsgPtr owned(small);
      natsMsgHeader_Set(small, "Natsfn-Status", "413");
      natsMsgHeader_Set(small, "Nats-Service-Error-Code", "413");
      natsMsgHeader_Set(small, "Nats-Service-Error", "function result too large");
      s = natsConnection_PublishMsg(nc, small);
    }
  }
  if (s != NATS_OK)
    spdlog::warn("[{}] [{}] reply failed: {}", inv.function, inv.request_id, natsStatus_GetText(s));
}

natsMsg* make_msg(const Invocation& inv, const std::string& payload) {
  natsMsg* m = nullptr;
  if (natsMsg_Create(&m, inv.reply_subject(), nullptr, payload.data(),
                     static_cast<int>(payload.size())) != NATS_OK)
    return nullptr;
  natsMsgHeader_Set(m, "Natsfn-Request-Id", inv.request_id.c_str());
  natsMsgHeader_Set(m, "Natsfn-Duration-Us", std::to_string(micros_since(inv.received)).c_str());
  if (inv.cold) natsMsgHeader_Set(m, "Natsfn-Cold-Start", "1");
  if (!g_sidecar_id.empty()) natsMsgHeader_Set(m, "Natsfn-Sidecar", g_sidecar_id.c_str());
  return m;
}

// Header values are single lines; an error message may not be.
std::string header_safe(std::string s) {
  for (char& c : s)
    if (c == '\r' || c == '\n') c = ' ';
  if (s.size() > 1024) s.resize(1024);
  return s;
}

}  // namespace

void set_sidecar_id(std::string id) { g_sidecar_id = std::move(id); }
const std::string& sidecar_id() { return g_sidecar_id; }

std::string lambda_error_json(const ErrorBody& error) {
  nlohmann::json j = {{"errorType", error.type},
                      {"errorMessage", error.message},
                      {"stackTrace", error.stack}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void reply_success(natsConnection* nc, const Invocation& inv, const std::string& payload,
                   const Headers& headers) {
  if (!inv.wants_reply()) {
    spdlog::info("[{}] [{}] event done ({} bytes, {} us)", inv.function, inv.request_id,
                 payload.size(), micros_since(inv.received));
    return;
  }
  natsMsg* m = make_msg(inv, payload);
  if (m == nullptr) return;
  // Function-set headers first, so ours win on a clash.
  for (auto& [k, v] : headers) natsMsgHeader_Set(m, k.c_str(), header_safe(v).c_str());
  natsMsgHeader_Set(m, "Natsfn-Status", "200");
  publish(nc, inv, m);
}

void reply_error(natsConnection* nc, const Invocation& inv, Errc code, const ErrorBody& error) {
  int status = errc_info(code).reply_status;
  if (!inv.wants_reply()) {
    spdlog::warn("[{}] [{}] event failed ({}): {}: {}", inv.function, inv.request_id, status,
                 error.type, error.message);
    return;
  }
  natsMsg* m = make_msg(inv, lambda_error_json(error));
  if (m == nullptr) return;
  std::string code_text = std::to_string(status);
  natsMsgHeader_Set(m, "Natsfn-Status", code_text.c_str());
  natsMsgHeader_Set(m, "Nats-Service-Error-Code", code_text.c_str());
  natsMsgHeader_Set(m, "Nats-Service-Error", header_safe(error.message).c_str());
  publish(nc, inv, m);
}

}  // namespace natsfn
