#include "core/status.hpp"

#include <array>

namespace natsfn {
namespace {

// The one error table. Order follows the Errc enum.
constexpr std::array<ErrcInfo, 18> kTable{{
    {Errc::ok, 200, ""},
    {Errc::invalid_argument, 400, "InvalidRequestContentException"},
    {Errc::not_found, 404, "ResourceNotFoundException"},
    {Errc::already_exists, 409, "ResourceConflictException"},
    {Errc::digest_mismatch, 500, "DigestMismatch"},
    {Errc::corrupt, 500, "CorruptData"},
    {Errc::io, 500, "IOError"},
    {Errc::nats, 503, "NatsError"},
    {Errc::timeout, 504, "TimeoutError"},
    {Errc::too_large, 413, "RequestTooLargeException"},
    {Errc::no_responders, 503, "NoResponders"},
    {Errc::over_capacity, 429, "TooManyRequestsException"},
    {Errc::handler_error, 500, "Error"},
    {Errc::worker_crashed, 502, "Runtime.ExitError"},
    {Errc::init_failed, 502, "Runtime.InitError"},
    {Errc::bad_package, 500, "InvalidPackage"},
    {Errc::shutting_down, 503, "ServiceUnavailable"},
    {Errc::internal, 500, "InternalError"},
}};

}  // namespace

const ErrcInfo& errc_info(Errc code) {
  auto i = static_cast<size_t>(code);
  return i < kTable.size() ? kTable[i] : kTable.back();
}

Status Status::with_context(std::string_view context) const {
  if (ok()) return *this;
  return Status(code_, std::string(context) + ": " + message_);
}

Status nats_status(natsStatus s, std::string_view context) {
  if (s == NATS_OK) return Status::OK();
  std::string text = natsStatus_GetText(s);
  const char* last = nats_GetLastError(nullptr);
  if (last != nullptr && *last != '\0' && text != last) text += std::string(" (") + last + ")";
  Errc code = Errc::nats;
  switch (s) {
    case NATS_TIMEOUT: code = Errc::timeout; break;
    case NATS_NOT_FOUND: code = Errc::not_found; break;
    case NATS_NO_RESPONDERS: code = Errc::no_responders; break;
    case NATS_INVALID_ARG:
    case NATS_INVALID_SUBJECT: code = Errc::invalid_argument; break;
    case NATS_MAX_PAYLOAD: code = Errc::too_large; break;
    default: break;
  }
  return Status(code, std::string(context) + ": " + text);
}

}  // namespace natsfn
