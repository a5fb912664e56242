#include "core/frame_codec.hpp"

#include <cmath>
#include <cstring>
#include <exception>
#include <limits>
#include <msgpack.hpp>

namespace natsfn {
namespace {

// Workers run user code, so every byte they send is untrusted. msgpack-c allocates a container's
// element array as soon as it reads the header, before the elements arrive, so these limits bound
// what a hostile header can make us allocate: at most kMaxDepth open containers of kMaxContainer
// elements each. Our own frames nest three deep and no honest frame has 64k headers.
constexpr size_t kMaxContainer = 1u << 16;
constexpr size_t kMaxDepth = 16;

// Above this capacity an idle FrameReader gives its buffer back, so one large frame does not pin
// its memory for the life of the worker.
constexpr size_t kShrinkAbove = 1u << 20;

// A packer stream that appends to a std::string, so the encoded frame needs no extra copy.
struct StringSink {
  std::string& out;
  void write(const char* data, size_t len) { out.append(data, len); }
};

using Packer = msgpack::packer<StringSink>;

void pack_text(Packer& pk, std::string_view s) {
  pk.pack_str(static_cast<uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

void pack_bytes(Packer& pk, std::string_view s) {
  pk.pack_bin(static_cast<uint32_t>(s.size()));
  pk.pack_bin_body(s.data(), static_cast<uint32_t>(s.size()));
}

void pack_headers(Packer& pk, const Headers& headers) {
  pk.pack_map(static_cast<uint32_t>(headers.size()));
  for (const auto& [key, value] : headers) {
    pack_text(pk, key);
    pack_text(pk, value);
  }
}

// Reserves the 4-byte length prefix, lets `body` pack the map, then writes the big-endian length.
template <class Fn>
std::string build_frame(size_t size_hint, Fn&& body) {
  std::string out;
  out.reserve(size_hint + 256);
  out.append(4, '\0');
  StringSink sink{out};
  Packer pk(sink);
  body(pk);
  const auto len = static_cast<uint32_t>(out.size() - 4);
  out[0] = static_cast<char>((len >> 24) & 0xff);
  out[1] = static_cast<char>((len >> 16) & 0xff);
  out[2] = static_cast<char>((len >> 8) & 0xff);
  out[3] = static_cast<char>(len & 0xff);
  return out;
}

// Strings and binaries point into the caller's buffer instead of being copied into the zone: the
// decoder copies what it keeps into std::strings before the buffer goes away.
bool reference_everything(msgpack::type::object_type, size_t, void*) { return true; }

Status corrupt(std::string_view frame, std::string_view what) {
  return Status(Errc::corrupt, std::string(frame) + " frame: " + std::string(what));
}

std::string_view key_of(const msgpack::object& o) {
  if (o.type == msgpack::type::STR) return {o.via.str.ptr, o.via.str.size};
  if (o.type == msgpack::type::BIN) return {o.via.bin.ptr, o.via.bin.size};
  return {};  // a key we cannot read is an unknown key, and unknown keys are ignored
}

// Text and bytes travel as msgpack str or bin depending on the encoder (JavaScript and Python
// libraries differ), so both are accepted wherever bytes are expected.
bool read_bytes(const msgpack::object& o, std::string& out) {
  if (o.type == msgpack::type::STR) {
    out.assign(o.via.str.ptr, o.via.str.size);
    return true;
  }
  if (o.type == msgpack::type::BIN) {
    out.assign(o.via.bin.ptr, o.via.bin.size);
    return true;
  }
  return false;
}

bool read_int(const msgpack::object& o, int64_t& out) {
  switch (o.type) {
    case msgpack::type::POSITIVE_INTEGER:
      if (o.via.u64 > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
      out = static_cast<int64_t>(o.via.u64);
      return true;
    case msgpack::type::NEGATIVE_INTEGER:
      out = o.via.i64;
      return true;
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: {
      // Some JavaScript encoders write large integers (Date.now()) as doubles.
      const double d = o.via.f64;
      if (!std::isfinite(d) || d != std::trunc(d) || d < -9.2e18 || d > 9.2e18) return false;
      out = static_cast<int64_t>(d);
      return true;
    }
    default:
      return false;
  }
}

// nil is treated as "no headers" because some encoders write undefined/None that way.
bool read_headers(const msgpack::object& o, Headers& out) {
  out.clear();
  if (o.type == msgpack::type::NIL) return true;
  if (o.type != msgpack::type::MAP) return false;
  for (uint32_t i = 0; i < o.via.map.size; ++i) {
    const auto& kv = o.via.map.ptr[i];
    std::string key, value;
    if (!read_bytes(kv.key, key) || !read_bytes(kv.val, value)) return false;
    out[std::move(key)] = std::move(value);
  }
  return true;
}

bool read_string_array(const msgpack::object& o, std::vector<std::string>& out) {
  out.clear();
  if (o.type == msgpack::type::NIL) return true;
  if (o.type != msgpack::type::ARRAY) return false;
  out.reserve(o.via.array.size);
  for (uint32_t i = 0; i < o.via.array.size; ++i) {
    std::string line;
    if (!read_bytes(o.via.array.ptr[i], line)) return false;
    out.push_back(std::move(line));
  }
  return true;
}

// Parses one frame body into a msgpack object tree. Every failure mode of msgpack-c (truncation,
// invalid bytes, limits) surfaces as an exception, which stops here as a Status.
Result<msgpack::object_handle> parse_map(std::string_view body, std::string_view frame) {
  if (body.empty()) return corrupt(frame, "empty frame");
  try {
    const msgpack::unpack_limit limit(kMaxContainer, kMaxContainer, body.size(), body.size(),
                                      body.size(), kMaxDepth);
    size_t off = 0;
    msgpack::object_handle handle =
        msgpack::unpack(body.data(), body.size(), off, reference_everything, nullptr, limit);
    if (off != body.size()) return corrupt(frame, "trailing bytes after the map");
    if (handle.get().type != msgpack::type::MAP) return corrupt(frame, "not a msgpack map");
    return handle;
  } catch (const std::exception& e) {
    return corrupt(frame, std::string("invalid msgpack: ") + e.what());
  } catch (...) {
    return corrupt(frame, "invalid msgpack");
  }
}

std::string_view frame_type(const msgpack::object& map) {
  for (uint32_t i = 0; i < map.via.map.size; ++i) {
    const auto& kv = map.via.map.ptr[i];
    if (key_of(kv.key) == "t" && kv.val.type == msgpack::type::STR) {
      return {kv.val.via.str.ptr, kv.val.via.str.size};
    }
  }
  return {};
}

Status decode_ctx(const msgpack::object& o, InvokeContext& ctx) {
  if (o.type == msgpack::type::NIL) return Status::OK();
  if (o.type != msgpack::type::MAP) return corrupt("invoke", "'ctx' must be a map");
  for (uint32_t i = 0; i < o.via.map.size; ++i) {
    const auto& kv = o.via.map.ptr[i];
    const std::string_view key = key_of(kv.key);
    bool good = true;
    if (key == "function") {
      good = read_bytes(kv.val, ctx.function);
    } else if (key == "version") {
      good = read_bytes(kv.val, ctx.version);
    } else if (key == "memory_mb") {
      good = read_int(kv.val, ctx.memory_mb);
    } else if (key == "subject") {
      good = read_bytes(kv.val, ctx.subject);
    } else if (key == "request_id") {
      good = read_bytes(kv.val, ctx.request_id);
    }
    if (!good) return corrupt("invoke", "'ctx." + std::string(key) + "' has the wrong type");
  }
  return Status::OK();
}

Status decode_error_body(const msgpack::object& o, std::string_view frame, ErrorBody& error) {
  if (o.type != msgpack::type::MAP) return corrupt(frame, "'error' must be a map");
  bool has_type = false, has_message = false;
  for (uint32_t i = 0; i < o.via.map.size; ++i) {
    const auto& kv = o.via.map.ptr[i];
    const std::string_view key = key_of(kv.key);
    bool good = true;
    if (key == "type") {
      good = has_type = read_bytes(kv.val, error.type);
    } else if (key == "message") {
      good = has_message = read_bytes(kv.val, error.message);
    } else if (key == "stack") {
      good = read_string_array(kv.val, error.stack);
    }
    if (!good) return corrupt(frame, "'error." + std::string(key) + "' has the wrong type");
  }
  if (!has_type) return corrupt(frame, "missing 'error.type'");
  if (!has_message) return corrupt(frame, "missing 'error.message'");
  return Status::OK();
}

Result<WorkerFrame> decode_init_error(const msgpack::object& map) {
  WorkerFrame frame;
  frame.kind = WorkerFrame::Kind::init_error;
  // init_error carries type and message at the top level, the same fields an error map has.
  if (Status s = decode_error_body(map, "init_error", frame.error); !s) return s;
  return frame;
}

Result<WorkerFrame> decode_result(const msgpack::object& map) {
  WorkerFrame frame;
  frame.kind = WorkerFrame::Kind::result;
  bool has_id = false, has_ok = false, has_payload = false;
  const msgpack::object* error = nullptr;
  for (uint32_t i = 0; i < map.via.map.size; ++i) {
    const auto& kv = map.via.map.ptr[i];
    const std::string_view key = key_of(kv.key);
    bool good = true;
    if (key == "id") {
      good = has_id = read_bytes(kv.val, frame.id);
    } else if (key == "ok") {
      good = has_ok = kv.val.type == msgpack::type::BOOLEAN;
      if (good) frame.ok = kv.val.via.boolean;
    } else if (key == "payload") {
      // nil is an empty result: a handler that returns nothing (undefined, None).
      if (kv.val.type == msgpack::type::NIL) {
        frame.payload.clear();
        has_payload = true;
      } else {
        good = has_payload = read_bytes(kv.val, frame.payload);
      }
    } else if (key == "headers") {
      good = read_headers(kv.val, frame.headers);
    } else if (key == "error") {
      error = &kv.val;
    }
    if (!good) return corrupt("result", "'" + std::string(key) + "' has the wrong type");
  }
  if (!has_id) return corrupt("result", "missing 'id'");
  if (!has_ok) return corrupt("result", "missing 'ok'");
  if (frame.ok) {
    if (!has_payload) return corrupt("result", "missing 'payload'");
  } else {
    if (error == nullptr) return corrupt("result", "missing 'error'");
    if (Status s = decode_error_body(*error, "result", frame.error); !s) return s;
  }
  return frame;
}

}  // namespace

std::string encode_invoke(const InvokeFrame& frame) {
  return build_frame(frame.payload.size(), [&](Packer& pk) {
    pk.pack_map(6);
    pack_text(pk, "t");
    pack_text(pk, "invoke");
    pack_text(pk, "id");
    pack_text(pk, frame.id);
    pack_text(pk, "payload");
    pack_bytes(pk, frame.payload);
    pack_text(pk, "headers");
    pack_headers(pk, frame.headers);
    pack_text(pk, "deadline_ms");
    pk.pack_int64(frame.deadline_ms);
    pack_text(pk, "ctx");
    pk.pack_map(5);
    pack_text(pk, "function");
    pack_text(pk, frame.ctx.function);
    pack_text(pk, "version");
    pack_text(pk, frame.ctx.version);
    pack_text(pk, "memory_mb");
    pk.pack_int64(frame.ctx.memory_mb);
    pack_text(pk, "subject");
    pack_text(pk, frame.ctx.subject);
    pack_text(pk, "request_id");
    pack_text(pk, frame.ctx.request_id);
  });
}

std::string encode_worker_frame(const WorkerFrame& frame) {
  return build_frame(frame.payload.size(), [&](Packer& pk) {
    switch (frame.kind) {
      case WorkerFrame::Kind::ready:
        pk.pack_map(1);
        pack_text(pk, "t");
        pack_text(pk, "ready");
        return;
      case WorkerFrame::Kind::init_error:
        pk.pack_map(3);
        pack_text(pk, "t");
        pack_text(pk, "init_error");
        pack_text(pk, "type");
        pack_text(pk, frame.error.type);
        pack_text(pk, "message");
        pack_text(pk, frame.error.message);
        return;
      case WorkerFrame::Kind::result:
        pk.pack_map(frame.ok ? 5 : 4);
        pack_text(pk, "t");
        pack_text(pk, "result");
        pack_text(pk, "id");
        pack_text(pk, frame.id);
        pack_text(pk, "ok");
        if (frame.ok) {
          pk.pack_true();
          pack_text(pk, "payload");
          pack_bytes(pk, frame.payload);
          pack_text(pk, "headers");
          pack_headers(pk, frame.headers);
        } else {
          pk.pack_false();
          pack_text(pk, "error");
          pk.pack_map(3);
          pack_text(pk, "type");
          pack_text(pk, frame.error.type);
          pack_text(pk, "message");
          pack_text(pk, frame.error.message);
          pack_text(pk, "stack");
          pk.pack_array(static_cast<uint32_t>(frame.error.stack.size()));
          for (const auto& line : frame.error.stack) pack_text(pk, line);
        }
        return;
    }
  });
}

Result<InvokeFrame> decode_invoke(std::string_view msgpack_body) {
  auto parsed = parse_map(msgpack_body, "invoke");
  if (!parsed) return parsed.status();
  const msgpack::object& map = parsed->get();
  if (frame_type(map) != "invoke") return corrupt("invoke", "'t' is not \"invoke\"");

  InvokeFrame frame;
  bool has_id = false, has_payload = false, has_deadline = false;
  for (uint32_t i = 0; i < map.via.map.size; ++i) {
    const auto& kv = map.via.map.ptr[i];
    const std::string_view key = key_of(kv.key);
    bool good = true;
    if (key == "id") {
      good = has_id = read_bytes(kv.val, frame.id);
    } else if (key == "payload") {
      good = has_payload = read_bytes(kv.val, frame.payload);
    } else if (key == "headers") {
      good = read_headers(kv.val, frame.headers);
    } else if (key == "deadline_ms") {
      good = has_deadline = read_int(kv.val, frame.deadline_ms);
    } else if (key == "ctx") {
      if (Status s = decode_ctx(kv.val, frame.ctx); !s) return s;
    }
    if (!good) return corrupt("invoke", "'" + std::string(key) + "' has the wrong type");
  }
  if (!has_id) return corrupt("invoke", "missing 'id'");
  if (!has_payload) return corrupt("invoke", "missing 'payload'");
  if (!has_deadline) return corrupt("invoke", "missing 'deadline_ms'");
  return frame;
}

Result<WorkerFrame> decode_worker_frame(std::string_view msgpack_body) {
  auto parsed = parse_map(msgpack_body, "worker");
  if (!parsed) return parsed.status();
  const msgpack::object& map = parsed->get();
  const std::string_view type = frame_type(map);
  if (type == "ready") {
    WorkerFrame frame;
    frame.kind = WorkerFrame::Kind::ready;
    return frame;
  }
  if (type == "result") return decode_result(map);
  if (type == "init_error") return decode_init_error(map);
  if (type.empty()) return corrupt("worker", "missing or non-string 't'");
  return corrupt("worker", "unknown frame type '" + std::string(type.substr(0, 64)) + "'");
}

void FrameReader::feed(const char* data, size_t len) {
  if (failed_ || len == 0) return;
  // Compact before growing: dropping the consumed prefix once it is at least as large as what is
  // left keeps the copying amortised O(1) per byte and the buffer no larger than twice the
  // unconsumed data.
  if (offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
    if (buffer_.capacity() > kShrinkAbove) buffer_.shrink_to_fit();
  } else if (offset_ > 0 && offset_ >= buffer_.size() - offset_) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  buffer_.append(data, len);
}

std::optional<Result<std::string>> FrameReader::next() {
  if (failed_) return Result<std::string>(failure_);
  const size_t available = buffer_.size() - offset_;
  if (available < 4) return std::nullopt;
  const auto* p = reinterpret_cast<const unsigned char*>(buffer_.data() + offset_);
  const uint32_t len =
      (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
  if (len > kMaxFrameBytes) {
    // The stream cannot be resynchronised after a bad length, so the reader stays failed and
    // frees what it holds.
    failed_ = true;
    failure_ = Status(Errc::too_large, "worker frame of " + std::to_string(len) +
                                           " bytes exceeds the limit of " +
                                           std::to_string(kMaxFrameBytes));
    std::string().swap(buffer_);
    offset_ = 0;
    return Result<std::string>(failure_);
  }
  if (available - 4 < len) return std::nullopt;
  std::string body = buffer_.substr(offset_ + 4, len);
  offset_ += 4 + size_t{len};
  if (offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
    if (buffer_.capacity() > kShrinkAbove) buffer_.shrink_to_fit();
  }
  return Result<std::string>(std::move(body));
}

size_t FrameReader::buffered() const { return buffer_.size() - offset_; }

}  // namespace natsfn
