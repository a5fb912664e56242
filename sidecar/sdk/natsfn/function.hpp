#pragma once
// natsfn C++ function SDK: header-only, needs msgpack-cxx (with MSGPACK_NO_BOOST) and POSIX.
//
//   #include <natsfn/function.hpp>
//   int main() {
//     return natsfn::serve([](const natsfn::Event& ev, natsfn::Context& ctx) {
//       return natsfn::Response::text("hello");
//     });
//   }
//
// Package the executable with a natsfn.json of {"runtime":"exec","handler":"<executable>"}. The
// sidecar starts it with the frame socket on fd 3; serve() says ready, then runs the handler once
// per invoke frame until the sidecar closes the socket. stdout and stderr are the function's log.

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>
#include <vector>

#if __has_include(<cxxabi.h>)
#include <cxxabi.h>
#define NATSFN_SDK_HAS_CXXABI 1
#endif

#include "detail/wire.hpp"

namespace natsfn {

// The invocation's input: the request's payload bytes, exactly as published, and its headers.
struct Event {
  std::string payload;
  std::map<std::string, std::string> headers;

  // The value of a header, or an empty view when it is absent.
  std::string_view header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (key == name) return value;
    }
    return {};
  }

  // A cheap guess (first non-blank byte), for handlers that accept JSON or plain text; the SDK
  // deliberately has no JSON dependency.
  bool looks_like_json() const {
    for (char c : payload) {
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
      return c == '{' || c == '[' || c == '"';
    }
    return false;
  }
};

// Lambda's context object: who is running and how long is left.
struct Context {
  std::string invocation_id;  // the frame id the sidecar matches the result to
  std::string request_id;     // Lambda's awsRequestId
  std::string function_name;
  std::string version;  // the package digest the function runs from
  int64_t memory_mb = 0;
  std::string subject;      // the NATS subject the request arrived on
  int64_t deadline_ms = 0;  // absolute, milliseconds since the Unix epoch

  // Milliseconds until the sidecar kills this invocation, never negative.
  int64_t remaining_time_ms() const {
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    return deadline_ms > now ? deadline_ms - now : 0;
  }
};

// What a handler returns: bytes on success, or an error the caller sees in Lambda's shape.
struct Response {
  bool ok = true;
  std::string payload;
  std::map<std::string, std::string> headers;
  std::string error_type;
  std::string error_message;
  std::vector<std::string> stack;

  static Response text(std::string s) { return bytes(std::move(s)); }
  static Response bytes(std::string b) {
    Response r;
    r.payload = std::move(b);
    return r;
  }
  static Response error(std::string type, std::string message,
                        std::vector<std::string> stack = {}) {
    Response r;
    r.ok = false;
    r.error_type = std::move(type);
    r.error_message = std::move(message);
    r.stack = std::move(stack);
    return r;
  }
  // Adds a result header; the sidecar passes these on as reply headers.
  Response& header(std::string name, std::string value) & {
    headers[std::move(name)] = std::move(value);
    return *this;
  }
  Response&& header(std::string name, std::string value) && {
    headers[std::move(name)] = std::move(value);
    return std::move(*this);
  }
};

using Handler = std::function<Response(const Event&, Context&)>;

namespace sdk_detail {

inline constexpr int kFrameFd = 3;

// Writes the whole frame. send() with MSG_NOSIGNAL turns a vanished sidecar into EPIPE instead of
// a SIGPIPE that would kill the worker without a word; write() covers a non-socket fd 3.
inline bool write_all(int fd, const std::string& frame) {
  size_t done = 0;
  bool use_send = true;
  while (done < frame.size()) {
    ssize_t n = use_send ? ::send(fd, frame.data() + done, frame.size() - done, MSG_NOSIGNAL)
                         : ::write(fd, frame.data() + done, frame.size() - done);
    if (n < 0 && use_send && errno == ENOTSOCK) {
      use_send = false;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// "std::runtime_error" rather than "St13runtime_error", so callers see a readable errorType.
inline std::string type_name(const std::type_info& type) {
#ifdef NATSFN_SDK_HAS_CXXABI
  int status = 0;
  char* demangled = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
  if (status == 0 && demangled != nullptr) {
    std::string name(demangled);
    std::free(demangled);
    return name;
  }
  std::free(demangled);
#endif
  return type.name();
}

// Runs the handler, turning anything it throws into an error result so one bad invocation does
// not take the warm worker down.
inline std::string run_one(const Handler& handler, Invoke&& inv) {
  Event event;
  event.payload = std::move(inv.payload);
  event.headers = std::move(inv.headers);
  Context ctx;
  ctx.invocation_id = inv.id;
  ctx.request_id = std::move(inv.request_id);
  ctx.function_name = std::move(inv.function);
  ctx.version = std::move(inv.version);
  ctx.memory_mb = inv.memory_mb;
  ctx.subject = std::move(inv.subject);
  ctx.deadline_ms = inv.deadline_ms;

  std::string frame;
  try {
    Response r = handler(event, ctx);
    frame = r.ok ? encode_ok(inv.id, r.payload, r.headers)
                 : encode_error(inv.id, r.error_type.empty() ? "Error" : r.error_type,
                                r.error_message, r.stack);
  } catch (const std::exception& e) {
    frame = encode_error(inv.id, type_name(typeid(e)), e.what(), {});
  } catch (...) {
    frame = encode_error(inv.id, "Error", "the handler threw a non-standard exception", {});
  }
  if (frame.size() - 4 > kMaxFrameBytes) {
    frame = encode_error(inv.id, "Function.ResponseSizeTooLarge",
                         "the response of " + std::to_string(frame.size() - 4) +
                             " bytes exceeds the limit of " + std::to_string(kMaxFrameBytes),
                         {});
  }
  return frame;
}

// The function's log is captured line by line from pipes, where stdio is fully buffered: flush
// after each invocation so its lines show up with it rather than at exit.
inline void flush_logs() {
  std::cout.flush();
  std::cerr.flush();
  std::fflush(stdout);
  std::fflush(stderr);
}

inline int fail(const std::string& message, int code) {
  flush_logs();
  std::fprintf(stderr, "natsfn: %s\n", message.c_str());
  return code;
}

}  // namespace sdk_detail

// Runs `init` (load configuration, open connections), then serves invocations with `handler`
// until the sidecar closes fd 3. If `init` throws, the sidecar gets an init_error frame naming
// the exception and serve() returns 1. Returns 0 on a clean end of stream, non-zero when the
// stream breaks (the exit code is for the sidecar's log; it treats any exit as the worker gone).
inline int serve(const std::function<void()>& init, Handler handler) {
  // Names are qualified: a program may also include natsfn's core headers, which have a
  // decode_invoke and a kMaxFrameBytes of their own.
  namespace d = sdk_detail;
  const int flags = ::fcntl(d::kFrameFd, F_GETFD);
  if (flags < 0) {
    return d::fail(
        "fd 3 is not open: this program is a natsfn function and must be started by "
        "natsfn-sidecar",
        2);
  }
  // Processes the handler starts must not inherit the frame socket, or the sidecar would not see
  // end-of-file when this worker dies.
  ::fcntl(d::kFrameFd, F_SETFD, flags | FD_CLOEXEC);

  if (init) {
    std::string failure_type, failure_message;
    try {
      init();
    } catch (const std::exception& e) {
      failure_type = d::type_name(typeid(e));
      failure_message = e.what();
    } catch (...) {
      failure_type = "Error";
      failure_message = "init threw a non-standard exception";
    }
    if (!failure_type.empty()) {
      d::write_all(d::kFrameFd, d::encode_init_error(failure_type, failure_message));
      return d::fail("init failed: " + failure_message, 1);
    }
  }
  if (!d::write_all(d::kFrameFd, d::encode_ready()))
    return d::fail("cannot write the ready frame", 1);

  d::FrameBuffer frames;
  std::string body;
  std::string chunk(64 * 1024, '\0');
  for (;;) {
    // Wait in poll, not in read: a read blocked on a socket is woken by every wake-up of its
    // queue, including the "write space freed" one the sidecar causes each time it reads our
    // reply; poll's wait only wakes for what it asked for. Measured: one context switch less
    // per invocation.
    pollfd pfd{d::kFrameFd, POLLIN, 0};
    if (::poll(&pfd, 1, -1) < 0 && errno != EINTR)
      return d::fail(std::string("waiting on fd 3: ") + std::strerror(errno), 1);
    const ssize_t n = ::read(d::kFrameFd, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return d::fail(std::string("reading fd 3: ") + std::strerror(errno), 1);
    if (n == 0) {
      d::flush_logs();
      return 0;
    }
    frames.append(chunk.data(), static_cast<size_t>(n));
    bool too_large = false;
    while (frames.next(body, too_large)) {
      std::string error;
      auto inv = d::decode_invoke(body, error);
      if (!inv) return d::fail("bad frame from the sidecar: " + error, 2);
      std::string result = d::run_one(handler, std::move(*inv));
      d::flush_logs();
      if (!d::write_all(d::kFrameFd, result)) {
        return d::fail(std::string("writing fd 3: ") + std::strerror(errno), 1);
      }
    }
    if (too_large) return d::fail("frame from the sidecar exceeds the size limit", 2);
  }
}

inline int serve(Handler handler) { return serve(std::function<void()>{}, std::move(handler)); }

}  // namespace natsfn
