#pragma once
// The worker's half of the natsfn frame protocol, for the header-only C++ function SDK. Each frame
// on fd 3 is a 4-byte big-endian length followed by one msgpack map (DESIGN "Worker frame
// protocol"). This file depends only on msgpack-cxx so a function can be built with nothing but
// the SDK headers; natsfn's core library has its own codec for the sidecar's half.

#include <cmath>
#include <cstdint>
#include <exception>
#include <map>
#include <msgpack.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace natsfn::sdk_detail {

// Mirrors the sidecar's limit: a larger frame is a protocol error on either side.
inline constexpr uint32_t kMaxFrameBytes = 64u << 20;

using HeaderMap = std::map<std::string, std::string>;

struct Invoke {
  std::string id;
  std::string payload;
  HeaderMap headers;
  int64_t deadline_ms = 0;
  std::string function;
  std::string version;
  int64_t memory_mb = 0;
  std::string subject;
  std::string request_id;
};

struct StringSink {
  std::string& out;
  void write(const char* data, size_t len) { out.append(data, len); }
};
using Packer = msgpack::packer<StringSink>;

inline void pack_text(Packer& pk, std::string_view s) {
  pk.pack_str(static_cast<uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

inline void pack_bytes(Packer& pk, std::string_view s) {
  pk.pack_bin(static_cast<uint32_t>(s.size()));
  pk.pack_bin_body(s.data(), static_cast<uint32_t>(s.size()));
}

// Builds a whole frame: reserves the length prefix, packs the map, then fills the prefix in.
template <class Fn>
std::string build_frame(size_t size_hint, Fn&& body) {
  std::string out;
  out.reserve(size_hint + 256);
  out.append(4, '\0');
  StringSink sink{out};
  Packer pk(sink);
  body(pk);
  const auto len = static_cast<uint32_t>(out.size() - 4);
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((len >> (24 - 8 * i)) & 0xff);
  return out;
}

inline std::string encode_ready() {
  return build_frame(0, [](Packer& pk) {
    pk.pack_map(1);
    pack_text(pk, "t");
    pack_text(pk, "ready");
  });
}

inline std::string encode_init_error(std::string_view type, std::string_view message) {
  return build_frame(message.size(), [&](Packer& pk) {
    pk.pack_map(3);
    pack_text(pk, "t");
    pack_text(pk, "init_error");
    pack_text(pk, "type");
    pack_text(pk, type);
    pack_text(pk, "message");
    pack_text(pk, message);
  });
}

inline std::string encode_ok(std::string_view id, std::string_view payload,
                             const HeaderMap& headers) {
  return build_frame(payload.size(), [&](Packer& pk) {
    pk.pack_map(5);
    pack_text(pk, "t");
    pack_text(pk, "result");
    pack_text(pk, "id");
    pack_text(pk, id);
    pack_text(pk, "ok");
    pk.pack_true();
    pack_text(pk, "payload");
    pack_bytes(pk, payload);
    pack_text(pk, "headers");
    pk.pack_map(static_cast<uint32_t>(headers.size()));
    for (const auto& [key, value] : headers) {
      pack_text(pk, key);
      pack_text(pk, value);
    }
  });
}

inline std::string encode_error(std::string_view id, std::string_view type,
                                std::string_view message, const std::vector<std::string>& stack) {
  return build_frame(message.size(), [&](Packer& pk) {
    pk.pack_map(4);
    pack_text(pk, "t");
    pack_text(pk, "result");
    pack_text(pk, "id");
    pack_text(pk, id);
    pack_text(pk, "ok");
    pk.pack_false();
    pack_text(pk, "error");
    pk.pack_map(3);
    pack_text(pk, "type");
    pack_text(pk, type);
    pack_text(pk, "message");
    pack_text(pk, message);
    pack_text(pk, "stack");
    pk.pack_array(static_cast<uint32_t>(stack.size()));
    for (const auto& line : stack) pack_text(pk, line);
  });
}

inline std::string_view key_of(const msgpack::object& o) {
  if (o.type == msgpack::type::STR) return {o.via.str.ptr, o.via.str.size};
  if (o.type == msgpack::type::BIN) return {o.via.bin.ptr, o.via.bin.size};
  return {};
}

// Text may arrive as str or bin depending on who encoded it; both are bytes to us.
inline bool read_bytes(const msgpack::object& o, std::string& out) {
  if (o.type == msgpack::type::STR) {
    out.assign(o.via.str.ptr, o.via.str.size);
    return true;
  }
  if (o.type == msgpack::type::BIN) {
    out.assign(o.via.bin.ptr, o.via.bin.size);
    return true;
  }
  return o.type == msgpack::type::NIL;  // nil reads as empty
}

inline bool read_int(const msgpack::object& o, int64_t& out) {
  switch (o.type) {
    case msgpack::type::POSITIVE_INTEGER:
      if (o.via.u64 > static_cast<uint64_t>(INT64_MAX)) return false;
      out = static_cast<int64_t>(o.via.u64);
      return true;
    case msgpack::type::NEGATIVE_INTEGER:
      out = o.via.i64;
      return true;
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      if (!std::isfinite(o.via.f64) || std::fabs(o.via.f64) > 9.2e18) return false;
      out = static_cast<int64_t>(o.via.f64);
      return true;
    case msgpack::type::NIL:
      return true;
    default:
      return false;
  }
}

inline bool reference_everything(msgpack::type::object_type, size_t, void*) { return true; }

// Decodes an invoke frame body. The sidecar is trusted more than a worker is, but a worker must
// still never crash on bad bytes: every failure is a message, never an exception.
inline std::optional<Invoke> decode_invoke(std::string_view body, std::string& error) {
  try {
    // Bounds what a bad container header can make msgpack-c allocate before its elements arrive.
    const msgpack::unpack_limit limit(1u << 16, 1u << 16, body.size(), body.size(), body.size(),
                                      16);
    size_t off = 0;
    msgpack::object_handle handle =
        msgpack::unpack(body.data(), body.size(), off, reference_everything, nullptr, limit);
    const msgpack::object& map = handle.get();
    if (map.type != msgpack::type::MAP) {
      error = "frame is not a msgpack map";
      return std::nullopt;
    }
    Invoke inv;
    bool is_invoke = false, has_id = false;
    bool good = true;
    for (uint32_t i = 0; i < map.via.map.size && good; ++i) {
      const auto& kv = map.via.map.ptr[i];
      const std::string_view key = key_of(kv.key);
      if (key == "t") {
        is_invoke = kv.val.type == msgpack::type::STR && key_of(kv.val) == "invoke";
      } else if (key == "id") {
        good = has_id = read_bytes(kv.val, inv.id);
      } else if (key == "payload") {
        good = read_bytes(kv.val, inv.payload);
      } else if (key == "deadline_ms") {
        good = read_int(kv.val, inv.deadline_ms);
      } else if (key == "headers" && kv.val.type == msgpack::type::MAP) {
        for (uint32_t h = 0; h < kv.val.via.map.size && good; ++h) {
          std::string name, value;
          good = read_bytes(kv.val.via.map.ptr[h].key, name) &&
                 read_bytes(kv.val.via.map.ptr[h].val, value);
          inv.headers[std::move(name)] = std::move(value);
        }
      } else if (key == "ctx" && kv.val.type == msgpack::type::MAP) {
        for (uint32_t c = 0; c < kv.val.via.map.size && good; ++c) {
          const auto& field = kv.val.via.map.ptr[c];
          const std::string_view name = key_of(field.key);
          if (name == "function") good = read_bytes(field.val, inv.function);
          if (name == "version") good = read_bytes(field.val, inv.version);
          if (name == "memory_mb") good = read_int(field.val, inv.memory_mb);
          if (name == "subject") good = read_bytes(field.val, inv.subject);
          if (name == "request_id") good = read_bytes(field.val, inv.request_id);
        }
      }
    }
    if (!good) {
      error = "invoke frame has a field of the wrong type";
    } else if (!is_invoke) {
      error = "frame is not an invoke";
    } else if (!has_id) {
      error = "invoke frame has no id";
    } else {
      return inv;
    }
  } catch (const std::exception& e) {
    error = std::string("invalid msgpack: ") + e.what();
  }
  return std::nullopt;
}

// Reassembles frames from reads of any size and keeps its buffer compact.
class FrameBuffer {
 public:
  void append(const char* data, size_t len) {
    if (offset_ > 0 && offset_ >= buffer_.size() - offset_) {
      buffer_.erase(0, offset_);
      offset_ = 0;
    }
    buffer_.append(data, len);
  }

  // Returns true with the body in `out` when a whole frame is buffered; sets `too_large` when the
  // length prefix is over the limit, after which the stream cannot be trusted.
  bool next(std::string& out, bool& too_large) {
    too_large = false;
    if (buffer_.size() - offset_ < 4) return false;
    const auto* p = reinterpret_cast<const unsigned char*>(buffer_.data() + offset_);
    const uint32_t len =
        (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
    if (len > kMaxFrameBytes) {
      too_large = true;
      return false;
    }
    if (buffer_.size() - offset_ - 4 < len) return false;
    out.assign(buffer_, offset_ + 4, len);
    offset_ += 4 + size_t{len};
    if (offset_ == buffer_.size()) {
      buffer_.clear();
      offset_ = 0;
      if (buffer_.capacity() > (1u << 20)) buffer_.shrink_to_fit();
    }
    return true;
  }

 private:
  std::string buffer_;
  size_t offset_ = 0;
};

}  // namespace natsfn::sdk_detail
