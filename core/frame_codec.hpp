#pragma once
// The worker frame protocol (DESIGN "Worker frame protocol"): on the worker's fd 3, each frame is
// a 4-byte big-endian length followed by one msgpack map. This file is the sidecar's side of it:
// it encodes invoke frames and decodes what workers send back. The worker's side for C++ functions
// is the header-only SDK in sidecar/sdk/natsfn/, which does not depend on this library.
//
// Decoding treats every byte as hostile: wrong types, missing keys, truncation and garbage come
// back as Errc::corrupt, oversized frames as Errc::too_large; nothing throws. Unknown keys are
// ignored so either side can grow new fields. Bytes fields (payload, header values, strings) accept
// msgpack str as well as bin, because encoders in other languages differ.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace natsfn {

// A frame larger than this is a protocol error (the worker is killed), never an allocation.
inline constexpr uint32_t kMaxFrameBytes = 64u << 20;

using Headers = std::map<std::string, std::string>;

struct InvokeContext {
  std::string function;
  std::string version;  // the pinned package digest
  int64_t memory_mb = 0;
  std::string subject;
  std::string request_id;
};

struct InvokeFrame {
  std::string id;
  std::string payload;  // raw bytes, sent as msgpack bin
  Headers headers;
  int64_t deadline_ms = 0;  // absolute, milliseconds since the Unix epoch
  InvokeContext ctx;
};

struct ErrorBody {
  std::string type;
  std::string message;
  std::vector<std::string> stack;
};

// Everything a worker can send: {"t":"ready"}, {"t":"init_error",...}, {"t":"result",...}.
struct WorkerFrame {
  enum class Kind { ready, init_error, result };
  Kind kind = Kind::ready;
  std::string id;       // result
  bool ok = false;      // result
  std::string payload;  // result, ok
  Headers headers;      // result, ok
  ErrorBody error;      // result !ok, and init_error (type, message)
};

// Length-prefixed msgpack bytes ready to write to the socket. The encoder does not enforce
// kMaxFrameBytes: callers refuse payloads over the limit before building a frame.
std::string encode_invoke(const InvokeFrame& frame);
// The worker's side, used by tests that play a worker (the C++ SDK carries its own encoder).
std::string encode_worker_frame(const WorkerFrame& frame);
// Required: t == "invoke", id, payload, deadline_ms. headers, ctx and each ctx field are optional.
Result<InvokeFrame> decode_invoke(std::string_view msgpack_body);

// Reassembles frames from a byte stream that arrives in arbitrary pieces.
class FrameReader {
 public:
  void feed(const char* data, size_t len);
  // The next complete frame body (without its length prefix), nullopt if more bytes are needed,
  // or an error Status for an oversized frame; after an error the stream is unusable.
  std::optional<Result<std::string>> next();
  // Bytes fed but not yet returned as frames (for tests and diagnostics).
  size_t buffered() const;
  // Memory held by the buffer; tests use it to prove the buffer is compacted, not just consumed.
  size_t buffer_capacity() const { return buffer_.capacity(); }

 private:
  std::string buffer_;
  size_t offset_ = 0;
  bool failed_ = false;
  Status failure_;
};

// Required: t; for result: id, ok, and payload (nil reads as empty) when ok, else error{type,
// message} with optional stack; for init_error: type and message.
Result<WorkerFrame> decode_worker_frame(std::string_view msgpack_body);

}  // namespace natsfn
