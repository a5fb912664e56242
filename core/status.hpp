#pragma once
// Errors as values. One table (status.cpp) maps each code to the NATS reply status and the
// Lambda-style errorType that the sidecar, the bridge and the CLI all use, so a failure reads the
// same wherever it surfaces. Exceptions are for start-up and CLI parsing only.

#include <nats/nats.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace natsfn {

enum class Errc {
  ok = 0,
  invalid_argument,  // bad input from a user: flags, names, subjects, manifests
  not_found,         // unknown function, package, object, binding
  already_exists,
  digest_mismatch,   // an object's bytes do not hash to its recorded digest
  corrupt,           // malformed stored data: JSON in KV, object meta, archives
  io,                // local file system
  nats,              // the NATS server or connection said no
  timeout,           // a deadline passed (handler or request)
  too_large,         // payload or package over a limit
  no_responders,
  over_capacity,     // function queue full
  handler_error,     // the function threw / returned an error
  worker_crashed,    // the worker process died mid-invocation
  init_failed,       // the worker could not load the handler
  bad_package,       // package missing, unsafe or unusable
  shutting_down,
  internal,
};

struct ErrcInfo {
  Errc code;
  int reply_status;     // NATS reply status (Nats-Service-Error-Code / HTTP-like)
  const char* type;     // Lambda errorType
};

const ErrcInfo& errc_info(Errc code);

class Status {
 public:
  Status() = default;
  Status(Errc code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() { return {}; }

  bool ok() const { return code_ == Errc::ok; }
  explicit operator bool() const { return ok(); }
  Errc code() const { return code_; }
  const std::string& message() const { return message_; }
  int reply_status() const { return errc_info(code_).reply_status; }
  const char* type() const { return errc_info(code_).type; }

  // Adds context in front, the way nats.c errors gain context as they travel up.
  Status with_context(std::string_view context) const;

 private:
  Errc code_ = Errc::ok;
  std::string message_;
};

// A value or the Status explaining why there is none.
template <class T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Status status) : status_(std::move(status)) {}  // NOLINT

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

// Converts a nats.c status once, at the wrapper, with what we were doing and nats.c's own
// last-error text.
Status nats_status(natsStatus s, std::string_view context);

}  // namespace natsfn
