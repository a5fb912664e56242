#include <catch2/catch.hpp>
#include <cstring>
#include <msgpack.hpp>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "core/frame_codec.hpp"

using namespace natsfn;

namespace {

// Hand-built msgpack bodies for frames no honest encoder would produce: mp(M{2}, "t", 7, ...)
// packs a map header, then the str "t", then the integer 7, and so on.
struct M {
  uint32_t n;
};  // map header with n pairs
struct A {
  uint32_t n;
};  // array header with n elements
struct B {
  std::string_view s;
};  // bin
struct U {
  uint64_t v;
};  // unsigned 64-bit
struct Nil {};

struct StringSink {
  std::string& out;
  void write(const char* d, size_t n) { out.append(d, n); }
};

template <class... Args>
std::string mp(const Args&... args) {
  std::string out;
  StringSink sink{out};
  msgpack::packer<StringSink> pk(sink);
  auto one = [&](const auto& a) {
    using T = std::decay_t<decltype(a)>;
    if constexpr (std::is_same_v<T, M>) {
      pk.pack_map(a.n);
    } else if constexpr (std::is_same_v<T, A>) {
      pk.pack_array(a.n);
    } else if constexpr (std::is_same_v<T, B>) {
      pk.pack_bin(static_cast<uint32_t>(a.s.size()));
      pk.pack_bin_body(a.s.data(), static_cast<uint32_t>(a.s.size()));
    } else if constexpr (std::is_same_v<T, U>) {
      pk.pack_uint64(a.v);
    } else if constexpr (std::is_same_v<T, Nil>) {
      pk.pack_nil();
    } else if constexpr (std::is_same_v<T, bool>) {
      a ? pk.pack_true() : pk.pack_false();
    } else if constexpr (std::is_integral_v<T>) {
      pk.pack_int64(a);
    } else if constexpr (std::is_floating_point_v<T>) {
      pk.pack_double(a);
    } else {
      const std::string_view sv(a);
      pk.pack_str(static_cast<uint32_t>(sv.size()));
      pk.pack_str_body(sv.data(), static_cast<uint32_t>(sv.size()));
    }
  };
  (one(args), ...);
  return out;
}

std::string body_of(const std::string& frame) {
  REQUIRE(frame.size() >= 4);
  return frame.substr(4);
}

InvokeFrame sample_invoke() {
  InvokeFrame f;
  f.id = "inv-1";
  f.payload = std::string("bin\0ary\xff\x80 payload", 18);
  f.headers = {{"Content-Type", "application/json"}, {"X-Empty", ""}};
  f.deadline_ms = 1'700'000'000'123;
  f.ctx = {"myfunction", "SHA-256=abc", 128, "myfunction.lambda", "req-42"};
  return f;
}

WorkerFrame sample_ok() {
  WorkerFrame f;
  f.kind = WorkerFrame::Kind::result;
  f.id = "inv-1";
  f.ok = true;
  f.payload = std::string("\0\x01hello\xfe", 8);
  f.headers = {{"X-Out", "1"}};
  return f;
}

WorkerFrame sample_error() {
  WorkerFrame f;
  f.kind = WorkerFrame::Kind::result;
  f.id = "inv-2";
  f.ok = false;
  f.error = {"TypeError", "x is not a function", {"at handler (index.js:3:9)", "at run"}};
  return f;
}

// Decoding must return, not crash or throw, whatever the bytes are.
void decode_anything(std::string_view body) {
  auto w = decode_worker_frame(body);
  auto i = decode_invoke(body);
  if (!w) CHECK(w.status().code() == Errc::corrupt);
  if (!i) CHECK(i.status().code() == Errc::corrupt);
}

Errc worker_error(const std::string& body) {
  auto r = decode_worker_frame(body);
  return r ? Errc::ok : r.status().code();
}

Errc invoke_error(const std::string& body) {
  auto r = decode_invoke(body);
  return r ? Errc::ok : r.status().code();
}

}  // namespace

TEST_CASE("invoke frames round-trip every field, binary-safe", "[frame_codec]") {
  const InvokeFrame in = sample_invoke();
  const std::string frame = encode_invoke(in);
  const uint32_t len = (uint32_t{uint8_t(frame[0])} << 24) | (uint32_t{uint8_t(frame[1])} << 16) |
                       (uint32_t{uint8_t(frame[2])} << 8) | uint32_t{uint8_t(frame[3])};
  REQUIRE(len == frame.size() - 4);

  auto out = decode_invoke(body_of(frame));
  REQUIRE(out.ok());
  CHECK(out->id == in.id);
  CHECK(out->payload == in.payload);
  CHECK(out->headers == in.headers);
  CHECK(out->deadline_ms == in.deadline_ms);
  CHECK(out->ctx.function == "myfunction");
  CHECK(out->ctx.version == "SHA-256=abc");
  CHECK(out->ctx.memory_mb == 128);
  CHECK(out->ctx.subject == "myfunction.lambda");
  CHECK(out->ctx.request_id == "req-42");

  // The payload travels as msgpack bin, as DESIGN says.
  auto handle = msgpack::unpack(frame.data() + 4, frame.size() - 4);
  bool saw_bin_payload = false;
  for (uint32_t i = 0; i < handle->via.map.size; ++i) {
    const auto& kv = handle->via.map.ptr[i];
    if (kv.key.as<std::string>() == "payload") saw_bin_payload = kv.val.type == msgpack::type::BIN;
  }
  CHECK(saw_bin_payload);
}

TEST_CASE("worker frames round-trip: ready, init_error, ok and error results", "[frame_codec]") {
  WorkerFrame ready;
  auto r = decode_worker_frame(body_of(encode_worker_frame(ready)));
  REQUIRE(r.ok());
  CHECK(r->kind == WorkerFrame::Kind::ready);

  WorkerFrame init;
  init.kind = WorkerFrame::Kind::init_error;
  init.error.type = "Runtime.ImportModuleError";
  init.error.message = "Cannot find module 'index'";
  auto ie = decode_worker_frame(body_of(encode_worker_frame(init)));
  REQUIRE(ie.ok());
  CHECK(ie->kind == WorkerFrame::Kind::init_error);
  CHECK(ie->error.type == init.error.type);
  CHECK(ie->error.message == init.error.message);

  const WorkerFrame ok = sample_ok();
  auto o = decode_worker_frame(body_of(encode_worker_frame(ok)));
  REQUIRE(o.ok());
  CHECK(o->kind == WorkerFrame::Kind::result);
  CHECK(o->ok);
  CHECK(o->id == ok.id);
  CHECK(o->payload == ok.payload);
  CHECK(o->headers == ok.headers);

  const WorkerFrame err = sample_error();
  auto e = decode_worker_frame(body_of(encode_worker_frame(err)));
  REQUIRE(e.ok());
  CHECK_FALSE(e->ok);
  CHECK(e->id == "inv-2");
  CHECK(e->error.type == err.error.type);
  CHECK(e->error.message == err.error.message);
  CHECK(e->error.stack == err.error.stack);

  WorkerFrame empty = sample_ok();
  empty.payload.clear();
  empty.headers.clear();
  auto em = decode_worker_frame(body_of(encode_worker_frame(empty)));
  REQUIRE(em.ok());
  CHECK(em->payload.empty());
}

TEST_CASE("FrameReader reassembles frames fed one byte at a time", "[frame_codec]") {
  const std::string stream = encode_invoke(sample_invoke()) + encode_worker_frame(sample_ok()) +
                             encode_worker_frame(sample_error());
  FrameReader reader;
  std::vector<std::string> bodies;
  for (char c : stream) {
    reader.feed(&c, 1);
    while (auto next = reader.next()) {
      REQUIRE(next->ok());
      bodies.push_back(next->value());
    }
  }
  REQUIRE(bodies.size() == 3);
  CHECK(decode_invoke(bodies[0]).ok());
  CHECK(decode_worker_frame(bodies[1])->ok);
  CHECK_FALSE(decode_worker_frame(bodies[2])->ok);
  CHECK(reader.buffered() == 0);
}

TEST_CASE("FrameReader returns many frames from one feed, then waits", "[frame_codec]") {
  std::string stream;
  for (int i = 0; i < 100; ++i) {
    WorkerFrame f = sample_ok();
    f.id = "id-" + std::to_string(i);
    stream += encode_worker_frame(f);
  }
  const std::string partial = encode_worker_frame(sample_error());
  stream += partial.substr(0, 7);

  FrameReader reader;
  reader.feed(stream.data(), stream.size());
  for (int i = 0; i < 100; ++i) {
    auto next = reader.next();
    REQUIRE(next.has_value());
    REQUIRE(next->ok());
    CHECK(decode_worker_frame(next->value())->id == "id-" + std::to_string(i));
  }
  CHECK_FALSE(reader.next().has_value());
  reader.feed(partial.data() + 7, partial.size() - 7);
  auto last = reader.next();
  REQUIRE(last.has_value());
  CHECK(decode_worker_frame(last->value())->id == "inv-2");
  CHECK_FALSE(reader.next().has_value());
}

TEST_CASE("FrameReader compacts its buffer on a long stream", "[frame_codec]") {
  const std::string frame = encode_worker_frame(sample_ok());
  std::string stream;
  for (int i = 0; i < 200; ++i) stream += frame;

  FrameReader reader;
  size_t frames = 0;
  size_t peak_capacity = 0;
  // Feed the stream 20 times over in odd-sized chunks that straddle frame boundaries: a reader
  // that only advances an offset would grow to the whole 20x stream.
  for (int round = 0; round < 20; ++round) {
    for (size_t pos = 0; pos < stream.size(); pos += 37) {
      reader.feed(stream.data() + pos, std::min<size_t>(37, stream.size() - pos));
      while (auto next = reader.next()) {
        REQUIRE(next->ok());
        ++frames;
      }
      peak_capacity = std::max(peak_capacity, reader.buffer_capacity());
    }
  }
  CHECK(frames == 4000);
  CHECK(reader.buffered() == 0);
  CHECK(peak_capacity < 4 * (frame.size() + 64));
}

TEST_CASE("FrameReader releases a large frame's memory once it is consumed", "[frame_codec]") {
  WorkerFrame big = sample_ok();
  big.payload.assign(8u << 20, 'x');
  const std::string frame = encode_worker_frame(big);
  FrameReader reader;
  for (size_t pos = 0; pos < frame.size(); pos += 65536) {
    reader.feed(frame.data() + pos, std::min<size_t>(65536, frame.size() - pos));
  }
  auto next = reader.next();
  REQUIRE(next.has_value());
  REQUIRE(next->ok());
  CHECK(decode_worker_frame(next->value())->payload.size() == big.payload.size());
  CHECK(reader.buffer_capacity() <= (1u << 20));
}

TEST_CASE("a frame over kMaxFrameBytes is too_large and poisons the stream", "[frame_codec]") {
  FrameReader reader;
  const uint32_t len = kMaxFrameBytes + 1;
  const char prefix[4] = {char(len >> 24), char(len >> 16), char(len >> 8), char(len)};
  reader.feed(prefix, 4);
  auto next = reader.next();
  REQUIRE(next.has_value());
  REQUIRE_FALSE(next->ok());
  CHECK(next->status().code() == Errc::too_large);

  const std::string good = encode_worker_frame(WorkerFrame{});
  reader.feed(good.data(), good.size());
  auto after = reader.next();
  REQUIRE(after.has_value());
  CHECK(after->status().code() == Errc::too_large);

  FrameReader max_reader;
  const char all_ones[4] = {'\xff', '\xff', '\xff', '\xff'};
  max_reader.feed(all_ones, 4);
  CHECK(max_reader.next()->status().code() == Errc::too_large);
}

TEST_CASE("an empty frame and a zero-length stream are handled", "[frame_codec]") {
  FrameReader reader;
  CHECK_FALSE(reader.next().has_value());
  reader.feed("\0\0\0\0", 4);
  auto next = reader.next();
  REQUIRE(next.has_value());
  REQUIRE(next->ok());
  CHECK(next->value().empty());
  CHECK(decode_worker_frame(next->value()).status().code() == Errc::corrupt);
  CHECK(decode_invoke("").status().code() == Errc::corrupt);
}

TEST_CASE("wrong types are corrupt, not crashes", "[frame_codec]") {
  constexpr auto corrupt = Errc::corrupt;
  // Baselines that decode, so each variant below fails for the one reason it names.
  const auto ok_result = [](auto id, auto ok, auto payload) {
    return mp(M{4}, "t", "result", "id", id, "ok", ok, "payload", payload);
  };
  CHECK(worker_error(ok_result("a", true, B{"x"})) == Errc::ok);
  const auto invoke = [](auto deadline) {
    return mp(M{4}, "t", "invoke", "id", "a", "payload", B{""}, "deadline_ms", deadline);
  };
  CHECK(invoke_error(invoke(1)) == Errc::ok);

  CHECK(worker_error(mp(M{1}, "t", 7)) == corrupt);
  CHECK(worker_error(mp(M{1}, "t", "bogus")) == corrupt);
  CHECK(worker_error(mp(M{0})) == corrupt);
  CHECK(worker_error(mp(A{1}, "ready")) == corrupt);
  CHECK(worker_error(mp(42)) == corrupt);
  CHECK(worker_error(mp("ready")) == corrupt);
  CHECK(worker_error(ok_result(1, true, B{"x"})) == corrupt);     // id not text
  CHECK(worker_error(ok_result("a", "yes", B{"x"})) == corrupt);  // ok not a bool
  CHECK(worker_error(ok_result("a", true, 5)) == corrupt);        // payload not bytes
  CHECK(worker_error(ok_result("a", true, A{0})) == corrupt);
  const auto with_headers = [](auto... headers) {
    return mp(M{5}, "t", "result", "id", "a", "ok", true, "payload", B{"x"}, "headers", headers...);
  };
  CHECK(worker_error(with_headers(M{0})) == Errc::ok);
  CHECK(worker_error(with_headers(A{0})) == corrupt);
  CHECK(worker_error(with_headers(M{1}, "k", 1)) == corrupt);
  CHECK(worker_error(with_headers(M{1}, 1, "v")) == corrupt);
  const auto failed = [](auto... error) {
    return mp(M{4}, "t", "result", "id", "a", "ok", false, "error", error...);
  };
  CHECK(worker_error(failed(M{2}, "type", "E", "message", "m")) == Errc::ok);
  CHECK(worker_error(failed("boom")) == corrupt);
  CHECK(worker_error(failed(M{2}, "type", Nil{}, "message", "m")) == corrupt);
  CHECK(worker_error(failed(M{3}, "type", "E", "message", "m", "stack", A{1}, 3)) == corrupt);
  CHECK(worker_error(failed(M{3}, "type", "E", "message", "m", "stack", "line")) == corrupt);
  CHECK(worker_error(mp(M{3}, "t", "init_error", "type", 1, "message", "m")) == corrupt);

  CHECK(invoke_error(invoke("soon")) == corrupt);
  CHECK(invoke_error(invoke(U{UINT64_MAX})) == corrupt);
  CHECK(invoke_error(invoke(1.5)) == corrupt);
  CHECK(invoke_error(invoke(Nil{})) == corrupt);
  const auto with_ctx = [](auto... ctx) {
    return mp(M{5}, "t", "invoke", "id", "a", "payload", B{""}, "deadline_ms", 1, "ctx", ctx...);
  };
  CHECK(invoke_error(with_ctx(M{1}, "memory_mb", 128)) == Errc::ok);
  CHECK(invoke_error(with_ctx("x")) == corrupt);
  CHECK(invoke_error(with_ctx(M{1}, "memory_mb", "128")) == corrupt);
  CHECK(invoke_error(with_ctx(M{1}, "function", 3)) == corrupt);
  CHECK(invoke_error(mp(M{4}, "t", "result", "id", "a", "payload", B{""}, "deadline_ms", 1)) ==
        corrupt);
}

TEST_CASE("missing required keys are corrupt", "[frame_codec]") {
  constexpr auto corrupt = Errc::corrupt;
  CHECK(worker_error(mp(M{3}, "t", "result", "ok", true, "payload", B{"x"})) == corrupt);  // id
  CHECK(worker_error(mp(M{3}, "t", "result", "id", "a", "payload", B{"x"})) == corrupt);   // ok
  CHECK(worker_error(mp(M{3}, "t", "result", "id", "a", "ok", true)) == corrupt);   // payload
  CHECK(worker_error(mp(M{3}, "t", "result", "id", "a", "ok", false)) == corrupt);  // error
  CHECK(worker_error(mp(M{4}, "t", "result", "id", "a", "ok", false, "error", M{1}, "type",
                        "E")) == corrupt);  // error.message
  CHECK(worker_error(mp(M{2}, "t", "init_error", "type", "E")) == corrupt);
  CHECK(worker_error(mp(M{2}, "t", "init_error", "message", "m")) == corrupt);
  CHECK(worker_error(mp(M{1}, "id", "a")) == corrupt);  // no t

  CHECK(invoke_error(mp(M{3}, "t", "invoke", "payload", B{""}, "deadline_ms", 1)) == corrupt);
  CHECK(invoke_error(mp(M{3}, "t", "invoke", "id", "a", "deadline_ms", 1)) == corrupt);
  CHECK(invoke_error(mp(M{3}, "t", "invoke", "id", "a", "payload", B{""})) == corrupt);
  CHECK(invoke_error(mp(M{3}, "id", "a", "payload", B{""}, "deadline_ms", 1)) == corrupt);
}

TEST_CASE("unknown keys are ignored and str is accepted where bin is expected", "[frame_codec]") {
  // An unknown nested value, a non-string key (also unknown), a str payload and nil headers.
  auto r = decode_worker_frame(mp(M{7}, "future", M{1}, "nested", A{2}, Nil{}, 2.5, "t", "result",
                                  99, "ignored", "id", "a", "ok", true, "payload", "as text",
                                  "headers", Nil{}));
  REQUIRE(r.ok());
  CHECK(r->payload == "as text");
  CHECK(r->headers.empty());

  auto nil_payload =
      decode_worker_frame(mp(M{4}, "t", "result", "id", "a", "ok", true, "payload", Nil{}));
  REQUIRE(nil_payload.ok());
  CHECK(nil_payload->payload.empty());

  // Integer deadlines written as doubles by JavaScript encoders still decode.
  auto inv = decode_invoke(mp(M{5}, "t", "invoke", "id", B{"a"}, "payload", "{}", "deadline_ms",
                              1700000000123.0, "x", 1));
  REQUIRE(inv.ok());
  CHECK(inv->id == "a");
  CHECK(inv->deadline_ms == 1700000000123);
  CHECK(inv->payload == "{}");
  CHECK(inv->ctx.function.empty());
}

TEST_CASE("truncated and padded bodies are corrupt", "[frame_codec]") {
  const std::string invoke = body_of(encode_invoke(sample_invoke()));
  const std::string ok = body_of(encode_worker_frame(sample_ok()));
  const std::string err = body_of(encode_worker_frame(sample_error()));
  for (const std::string* body : {&invoke, &ok, &err}) {
    for (size_t n = 0; n < body->size(); ++n) {
      const std::string_view prefix(body->data(), n);
      CHECK_FALSE(decode_worker_frame(prefix).ok());
      CHECK_FALSE(decode_invoke(prefix).ok());
    }
    CHECK(decode_worker_frame(*body + '\xc0').status().code() == Errc::corrupt);
  }
  CHECK(decode_invoke(invoke + "x").status().code() == Errc::corrupt);
}

TEST_CASE("container headers claiming billions of elements do not allocate", "[frame_codec]") {
  // array32 / map32 / bin32 / str32 headers with a huge count and nothing after them.
  const std::vector<std::string> hostile = {
      std::string("\xdd\xff\xff\xff\xff", 5),
      std::string("\xdf\xff\xff\xff\xff", 5),
      std::string("\x81\xa1t\xdd\xff\xff\xff\xff", 8),
      std::string("\x81\xa1t\xc6\xff\xff\xff\xff", 8),
      std::string("\x81\xa1t\xdb\xff\xff\xff\xff", 8),
      std::string("\x81\xa1x\xc9\xff\xff\xff\xff\x01", 9),  // ext32
  };
  for (const auto& body : hostile) decode_anything(body);

  // Nesting far deeper than any frame needs stops at the depth limit.
  std::string deep(100000, '\x91');
  deep += '\xc0';
  decode_anything(deep);
  std::string deep_map = "\x81\xa1t";
  for (int i = 0; i < 5000; ++i) deep_map += "\x81\xa1k";
  deep_map += '\xc0';
  decode_anything(deep_map);
}

TEST_CASE("random garbage and mutated frames never crash the decoder", "[frame_codec][fuzz]") {
  std::mt19937 rng(20160901);  // fixed seed: a failure reproduces
  const std::vector<std::string> seeds = {
      body_of(encode_invoke(sample_invoke())), body_of(encode_worker_frame(sample_ok())),
      body_of(encode_worker_frame(sample_error())), body_of(encode_worker_frame(WorkerFrame{}))};
  std::uniform_int_distribution<int> byte(0, 255);

  for (int iter = 0; iter < 4000; ++iter) {
    std::string body;
    if (iter % 2 == 0) {
      body.resize(std::uniform_int_distribution<size_t>(0, 200)(rng));
      for (char& c : body) c = static_cast<char>(byte(rng));
    } else {
      body = seeds[iter % seeds.size()];
      const int flips = std::uniform_int_distribution<int>(1, 8)(rng);
      for (int k = 0; k < flips; ++k) {
        body[std::uniform_int_distribution<size_t>(0, body.size() - 1)(rng)] =
            static_cast<char>(byte(rng));
      }
    }
    decode_anything(body);

    // The same bytes as a stream: the reader must only ever yield frames or a size error.
    FrameReader reader;
    reader.feed(body.data(), body.size());
    for (int k = 0; k < 100; ++k) {
      auto next = reader.next();
      if (!next) break;
      if (!next->ok()) {
        CHECK(next->status().code() == Errc::too_large);
        break;
      }
      decode_anything(next->value());
    }
  }
}
