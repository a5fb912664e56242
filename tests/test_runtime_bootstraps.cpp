// The Node.js and Python worker bootstraps (sidecar/runtimes/), driven as the sidecar drives them:
// a real process with a socketpair on fd 3, cwd and environment set, frames encoded and decoded
// with msgpack-c so the runtimes' own msgpack codecs are cross-checked against it.

#include <catch2/catch.hpp>
#include <filesystem>
#include <limits>
#include <msgpack.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/runtimes/worker_harness.hpp"
#include "tests/support/nats_server.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace natsfn::test::runtimes;
using natsfn::test::source_path;

namespace {

std::string node_root() { return source_path("tests/runtimes/fixtures/node"); }
std::string python_root() { return source_path("tests/runtimes/fixtures/python"); }

json parse_json(const std::string& text) {
  INFO("payload: " << text);
  return json::parse(text);
}

// Packs one of every msgpack shape the protocol subset has, in every width.
msgpack::sbuffer codec_sample(bool integral_floats) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_array(integral_floats ? 30 : 29);
  pk.pack_nil();
  pk.pack_true();
  pk.pack_false();
  pk.pack(uint64_t{0});
  pk.pack(uint64_t{127});
  pk.pack(uint64_t{200});                  // uint8
  pk.pack(uint64_t{60000});                // uint16
  pk.pack(uint64_t{4000000000});           // uint32
  pk.pack(uint64_t{9007199254740993ull});  // 2^53 + 1: beyond a double
  pk.pack(std::numeric_limits<uint64_t>::max());
  pk.pack(int64_t{-1});
  pk.pack(int64_t{-32});
  pk.pack(int64_t{-100});            // int8
  pk.pack(int64_t{-30000});          // int16
  pk.pack(int64_t{-2000000000});     // int32
  pk.pack(int64_t{-1234567890123});  // int64 within a double
  pk.pack(std::numeric_limits<int64_t>::min());
  pk.pack(3.25);
  pk.pack(-1.0e-300);
  if (integral_floats) pk.pack(2.0);
  pk.pack(std::string("fixstr ✓"));
  pk.pack(std::string(40, 's'));            // str8
  pk.pack(std::string(300, 't'));           // str16
  pk.pack(std::string(70000, 'u'));         // str32
  for (uint32_t n : {10u, 300u, 70000u}) {  // bin8, bin16, bin32
    std::string bytes(n, '\0');
    for (uint32_t i = 0; i < n; ++i) bytes[i] = static_cast<char>(i * 7);
    pk.pack_bin(n);
    pk.pack_bin_body(bytes.data(), n);
  }
  pk.pack_array(20);  // array16 of fixarrays
  for (int i = 0; i < 20; ++i) {
    pk.pack_array(1);
    pk.pack(i);
  }
  pk.pack_array(70000);  // array32
  for (int i = 0; i < 70000; ++i) pk.pack(i % 3 == 0 ? -i : i);
  // A map16 holding a fixmap and a map32. Keys are not integer-like, so JS objects keep order.
  pk.pack_map(20);
  for (int i = 0; i < 19; ++i) {
    pk.pack("k" + std::to_string(i));
    pk.pack(i);
  }
  pk.pack(std::string("nested"));
  pk.pack_map(2);
  pk.pack(std::string("fixmap"));
  pk.pack_map(1);
  pk.pack(std::string("x"));
  pk.pack(-7);
  pk.pack(std::string("map32"));
  pk.pack_map(70000);
  for (int i = 0; i < 70000; ++i) {
    pk.pack("m" + std::to_string(i));
    pk.pack_nil();
  }
  return buf;
}

void check_codec_echo(Worker& worker, bool integral_floats) {
  msgpack::sbuffer sample = codec_sample(integral_floats);
  msgpack::sbuffer small;
  msgpack::packer<msgpack::sbuffer>(small).pack(std::map<std::string, int64_t>{{"a", -5}});
  // Two frames in one write, then a frame dribbled in pieces: both must reassemble.
  worker.send_raw(with_length_prefix(sample) + with_length_prefix(small));
  worker.send_raw(with_length_prefix(small), 3);

  auto expected = msgpack::unpack(sample.data(), sample.size());
  auto expected_small = msgpack::unpack(small.data(), small.size());
  auto first = worker.next_frame_body();
  INFO("stderr: " << worker.stderr_text());
  REQUIRE(first.has_value());
  auto got = msgpack::unpack(first->data(), first->size());
  // Compare element by element first so a failure names the element.
  const auto& want_arr = expected.get().via.array;
  REQUIRE(got.get().type == msgpack::type::ARRAY);
  const auto& got_arr = got.get().via.array;
  REQUIRE(got_arr.size == want_arr.size);
  for (uint32_t i = 0; i < want_arr.size; ++i) {
    INFO("element " << i);
    CHECK(got_arr.ptr[i] == want_arr.ptr[i]);
  }
  for (int i = 0; i < 2; ++i) {
    auto body = worker.next_frame_body();
    REQUIRE(body.has_value());
    CHECK(msgpack::unpack(body->data(), body->size()).get() == expected_small.get());
  }
  worker.close_socket();
  CHECK(worker.wait_exit() == 0);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Node.js

TEST_CASE("node: async handler sees event, context, headers and env", "[runtime][node]") {
  Worker worker(Runtime::node, node_root(), "index.info");
  worker.expect_ready();
  Invoke inv;
  inv.payload = R"({"name":"world"})";
  inv.headers = {{"X-Trace", "t-1"}};
  inv.fixed_width_deadline = true;
  Reply r = worker.call(inv);
  REQUIRE(r.ok);
  CHECK(r.payload_is_bin);
  CHECK(r.headers.empty());
  json j = parse_json(r.payload);
  CHECK(j["event"] == json{{"name", "world"}});
  CHECK(j["awsRequestId"] == "req-1");
  CHECK(j["functionName"] == "fixture-fn");
  CHECK(j["functionVersion"] == "SHA-256=abc");
  CHECK(j["memoryLimitInMB"] == "256");
  CHECK(j["invokedFunctionArn"] == "arn:natsfn:function:fixture-fn");
  CHECK(j["subject"] == "fixture.subject");
  CHECK(j["headers"] == json{{"X-Trace", "t-1"}});
  CHECK(j["greeting"] == "hello from env");
  CHECK(j["handlerEnv"] == "index.info");
  CHECK(j["waits"] == true);
  CHECK(fs::equivalent(j["cwd"].get<std::string>(), node_root()));

  // The same warm worker takes the next invocation, with a new request id in its logs.
  inv.id = "inv-2";
  inv.request_id = "req-2";
  inv.payload = "";
  r = worker.call(inv);
  REQUIRE(r.ok);
  CHECK(parse_json(r.payload)["event"] == json::object());  // no payload: {} as Lambda

  worker.close_socket();
  CHECK(worker.wait_exit() == 0);
  std::string out = worker.stdout_text();
  CHECK(out.find("\treq-1\tINFO\tline one\rline two\n") != std::string::npos);
  CHECK(out.find("\treq-2\tINFO\tline one\rline two\n") != std::string::npos);
  CHECK(worker.stderr_text().find("\treq-1\tERROR\tto stderr\n") != std::string::npos);
}

TEST_CASE("node: every handler style completes once with the right result", "[runtime][node]") {
  struct Case {
    const char* handler;
    bool ok;
    std::string payload_or_type;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"index.promise", true, R"({"style":"promise"})", ""},
      {"index.callback", true, R"({"style":"callback"})", ""},
      {"index.succeed", true, R"({"style":"succeed"})", ""},
      {"index.done", true, "done-result", ""},
      {"index.firstWins", true, "first", ""},
      {"index.stringResult", true, "hello", ""},
      {"index.bufferResult", true, std::string("\x00\x01\x02\xff\xfe", 5), ""},
      {"index.objectResult", true, R"({"a":1,"b":[true,null]})", ""},
      {"index.undefinedResult", true, "", ""},
      {"index.noCompletion", true, "", ""},
      {"index.nested.handler", true, "nested", ""},
      {"index.fail", false, "Error", "failed"},
      {"index.failString", false, "Error", "plain string"},
      {"index.doneError", false, "RangeError", "done failed"},
      {"index.callbackError", false, "TypeError", "callback failed"},
      {"index.thrown", false, "TypeError", "thrown!"},
      {"index.rejected", false, "RangeError", "rejected!"},
      {"index.rejectNonError", false, "Error", "42"},
  };
  for (const auto& c : cases) {
    INFO("handler " << c.handler);
    Worker worker(Runtime::node, node_root(), c.handler);
    worker.expect_ready();
    Reply r = worker.call("{}");
    CHECK(r.ok == c.ok);
    if (c.ok) {
      CHECK(r.payload == c.payload_or_type);
    } else {
      CHECK(r.type == c.payload_or_type);
      CHECK(r.message == c.message);
    }
    // A second invocation proves the first completion left the worker usable and nothing late
    // (a second callback, a later context.fail) leaked into it as an extra frame.
    Invoke again;
    again.id = "inv-2";
    Reply r2 = worker.call(again);
    CHECK(r2.ok == c.ok);
    worker.close_socket();
    CHECK(worker.wait_exit() == 0);
  }
}

TEST_CASE("node: a thrown error carries Lambda's error shape", "[runtime][node]") {
  Worker worker(Runtime::node, node_root(), "index.thrown");
  worker.expect_ready();
  Reply r = worker.call("{}");
  REQUIRE_FALSE(r.ok);
  REQUIRE(r.stack.size() >= 2);
  CHECK(r.stack[0] == "TypeError: thrown!");
  CHECK(r.stack[1].find("index.js") != std::string::npos);
}

TEST_CASE("node: getRemainingTimeInMillis counts down to the deadline", "[runtime][node]") {
  Worker worker(Runtime::node, node_root(), "index.remaining");
  worker.expect_ready();
  Invoke inv;
  inv.deadline_ms = now_ms() + 5000;
  Reply r = worker.call(inv);
  REQUIRE(r.ok);
  json j = parse_json(r.payload);
  int64_t first = j["first"], second = j["second"];
  CHECK(first <= 5000);
  CHECK(first > 2000);
  CHECK(second <= first - 40);  // the handler slept 50 ms between the two readings
  CHECK(second > 0);
}

TEST_CASE("node: module forms: .mjs, .cjs, type=module .js, nested path", "[runtime][node]") {
  struct Case {
    std::string root, handler, from;
  };
  for (const auto& c : std::vector<Case>{
           {node_root(), "esm.handler", "esm"},
           {node_root(), "legacy.handler", "cjs"},
           {node_root(), "src/app.handler", "src/app.js"},
           {source_path("tests/runtimes/fixtures/node_esm"), "index.handler", "type-module"}}) {
    INFO("handler " << c.handler);
    Worker worker(Runtime::node, c.root, c.handler);
    worker.expect_ready();
    Reply r = worker.call(R"([1,2])");
    REQUIRE(r.ok);
    json j = parse_json(r.payload);
    CHECK(j["from"] == c.from);
    CHECK(j["event"] == json::array({1, 2}));
  }
}

namespace {

// Each handler fails to load: an init_error frame of the given type, then a non-zero exit.
struct LoadFailure {
  const char* handler;
  const char* type;
};
void expect_load_failures(Runtime runtime, const std::string& root,
                          const std::vector<LoadFailure>& cases) {
  for (const auto& c : cases) {
    INFO("handler " << c.handler);
    Worker worker(runtime, root, c.handler);
    auto reply = worker.next_reply();
    REQUIRE(reply.has_value());
    CHECK(reply->t == "init_error");
    CHECK(reply->type == c.type);
    CHECK_FALSE(reply->message.empty());
    auto code = worker.wait_exit();
    REQUIRE(code.has_value());
    CHECK(*code != 0);
  }
}

// The event is the payload parsed as JSON when it is JSON and the payload as a string otherwise;
// the bootstraps skip JSON.parse/json.loads for text that cannot start a JSON value, so both sides
// of that shortcut are checked: leading whitespace, every JSON start byte, and look-alikes.
void expect_event_mapping(Runtime runtime, const std::string& root, const std::string& handler,
                          const std::string& object_type, const std::string& string_type) {
  Worker worker(runtime, root, handler);
  worker.expect_ready();
  const std::vector<std::pair<std::string, json>> as_json = {
      {" \n\t\r{\"a\": 1}", {{"a", 1}}}, {"[1, 2]", {1, 2}}, {"\"quoted\"", "quoted"},
      {"-12", -12}, {"7", 7}, {"true", true}, {"false", false}, {"null", nullptr}};
  for (const auto& [payload, expected] : as_json) {
    INFO("payload " << payload);
    Reply r = worker.call(payload);
    REQUIRE(r.ok);
    json shape = parse_json(r.payload);
    CHECK(shape["event"] == expected);
    if (expected.is_object()) CHECK(shape["type"] == object_type);
  }
  for (const std::string payload : {"hello", "trueish", "{not json", "-", "12abc", "  ", "x{}"}) {
    INFO("payload " << payload);
    Reply r = worker.call(payload);
    REQUIRE(r.ok);
    json shape = parse_json(r.payload);
    CHECK(shape["type"] == string_type);
    CHECK(shape["event"] == payload);
  }
}

// A frame whose msgpack body is cut short, or has bytes after its value, or uses a type outside
// the protocol's subset, ends the worker with a message on stderr (exit 3) instead of a guess.
void expect_corrupt_frames_rejected(Runtime runtime, const std::string& root,
                                    const std::string& handler) {
  const std::vector<std::pair<const char*, std::string>> bodies = {
      {"map missing its value", std::string("\x81\xa1t", 3)},
      {"str longer than the body", std::string("\x81\xa1t\xa6inv", 7)},
      {"bin32 longer than the body", std::string("\x81\xa1t\xc6\x00\x01\x00\x00ab", 9)},
      {"uint64 cut short", std::string("\xcf\x00\x01", 3)},
      {"trailing bytes", std::string("\xc0\xc0", 2)},
      {"ext type", std::string("\xd4\x01\x00", 3)},
  };
  for (const auto& [what, body] : bodies) {
    INFO(what);
    Worker worker(runtime, root, handler);
    worker.expect_ready();
    msgpack::sbuffer raw;
    raw.write(body.data(), body.size());
    worker.send_raw(with_length_prefix(raw));
    auto code = worker.wait_exit();
    REQUIRE(code.has_value());
    CHECK(*code == 3);
    CHECK(worker.stderr_text().find("bad frame") != std::string::npos);
  }
}

}  // namespace

// Frames that share one read, and a frame dribbled in 3-byte pieces, are all served in order
// (the sidecar sends one at a time, but a socket promises no boundaries).
void expect_frames_reassembled(Runtime runtime, const std::string& root, const std::string& handler) {
  Worker worker(runtime, root, handler);
  worker.expect_ready();
  Invoke a, b, c;
  a.id = "inv-a";
  a.payload = "first";
  b.id = "inv-b";
  b.payload = "second";
  c.id = "inv-c";
  c.payload = std::string(5000, 'c');
  worker.send_raw(encode_invoke(a) + encode_invoke(b));
  worker.send_raw(encode_invoke(c), 3);
  for (const Invoke* inv : {&a, &b, &c}) {
    auto reply = worker.next_reply();
    INFO("stderr: " << worker.stderr_text());
    REQUIRE(reply.has_value());
    CHECK(reply->id == inv->id);
    CHECK(reply->payload == inv->payload);
  }
}

TEST_CASE("node: frames sharing a read or split across reads are all served", "[runtime][node]") {
  expect_frames_reassembled(Runtime::node, node_root(), "index.echo");
}

TEST_CASE("python: frames sharing a read or split across reads are all served", "[runtime][python]") {
  expect_frames_reassembled(Runtime::python, python_root(), "handlers.echo");
}

TEST_CASE("node: a corrupt frame ends the worker with a message", "[runtime][node]") {
  expect_corrupt_frames_rejected(Runtime::node, node_root(), "index.echo");
}

TEST_CASE("python: a corrupt frame ends the worker with a message", "[runtime][python]") {
  expect_corrupt_frames_rejected(Runtime::python, python_root(), "handlers.echo");
}

TEST_CASE("node: JSON payloads become values, anything else a string", "[runtime][node]") {
  expect_event_mapping(Runtime::node, node_root(), "index.eventShape", "object", "string");
}

TEST_CASE("python: JSON payloads become values, anything else a str", "[runtime][python]") {
  expect_event_mapping(Runtime::python, python_root(), "handlers.event_shape", "dict", "str");
}

TEST_CASE("node: load failures are init_error frames and a non-zero exit", "[runtime][node]") {
  expect_load_failures(Runtime::node, node_root(),
                       {{"index.nope", "Runtime.HandlerNotFound"},
                        {"missing.handler", "Runtime.ImportModuleError"},
                        {"syntax.handler", "Runtime.UserCodeSyntaxError"},
                        {"broken.handler", "TypeError"},
                        {"nodot", "Runtime.MalformedHandlerName"}});
}

TEST_CASE("node: an exception or rejection after completion kills the worker", "[runtime][node]") {
  for (const char* handler : {"index.crashLater", "index.unhandledLater"}) {
    INFO("handler " << handler);
    Worker worker(Runtime::node, node_root(), handler);
    worker.expect_ready();
    Reply r = worker.call("{}");
    CHECK(r.ok);
    CHECK(r.payload == "ok");
    auto code = worker.wait_exit();
    REQUIRE(code.has_value());
    CHECK(*code != 0);
    CHECK(worker.stderr_text().find("later") != std::string::npos);
  }
}

TEST_CASE("node: process.exit(0) inside a handler is still a crash", "[runtime][node]") {
  Worker worker(Runtime::node, node_root(), "index.exitZero");
  worker.expect_ready();
  worker.invoke(Invoke{});
  CHECK_FALSE(worker.next_reply().has_value());
  auto code = worker.wait_exit();
  REQUIRE(code.has_value());
  CHECK(*code != 0);
}

TEST_CASE("node: payloads: binary, 1 MiB, numbers through JSON", "[runtime][node]") {
  Worker info_worker(Runtime::node, node_root(), "index.eventInfo");
  info_worker.expect_ready();
  Reply r = info_worker.call(std::string("\xff\xfe\x00\x80 not utf-8", 15));
  REQUIRE(r.ok);
  CHECK(parse_json(r.payload)["type"] == "string");

  Worker echo(Runtime::node, node_root(), "index.echo");
  echo.expect_ready();
  std::string big(1 << 20, 'x');
  Invoke inv;
  inv.payload = big;
  r = echo.call(inv);
  REQUIRE(r.ok);
  CHECK(r.payload.size() == big.size());
  CHECK(r.payload == big);

  // JS numbers are doubles: 2^53 - 1 is the largest integer the event can carry exactly.
  json numbers = {{"max_safe", 9007199254740991LL},
                  {"min_safe", -9007199254740991LL},
                  {"neg", -1234567890123LL},
                  {"small", -5},
                  {"float", 3.25},
                  {"tiny", -1.5e-300},
                  {"nested", {{"list", {1, -2, 0.5}}}}};
  inv.id = "inv-numbers";
  inv.payload = numbers.dump();
  r = echo.call(inv);
  REQUIRE(r.ok);
  CHECK(parse_json(r.payload) == numbers);
}

TEST_CASE("node: msgpack codec round-trips every shape msgpack-c produces", "[runtime][node]") {
  Worker worker(Runtime::node, node_root(), "unused.handler",
                {find_on_path("node"), source_path("tests/runtimes/codec_echo.js")});
  check_codec_echo(worker, /*integral_floats=*/false);
}

// ---------------------------------------------------------------------------------------------
// Python

TEST_CASE("python: handler sees event, context, env; logs are Lambda-shaped", "[runtime][python]") {
  Worker worker(Runtime::python, python_root(), "handlers.info");
  worker.expect_ready();
  Invoke inv;
  inv.payload = R"({"name":"world"})";
  inv.headers = {{"X-Trace", "t-1"}};
  inv.fixed_width_deadline = true;
  Reply r = worker.call(inv);
  REQUIRE(r.ok);
  CHECK(r.payload_is_bin);
  json j = parse_json(r.payload);
  CHECK(j["event"] == json{{"name", "world"}});
  CHECK(j["aws_request_id"] == "req-1");
  CHECK(j["function_name"] == "fixture-fn");
  CHECK(j["function_version"] == "SHA-256=abc");
  CHECK(j["memory_limit_in_mb"] == "256");
  CHECK(j["invoked_function_arn"] == "arn:natsfn:function:fixture-fn");
  CHECK(j["subject"] == "fixture.subject");
  CHECK(j["headers"] == json{{"X-Trace", "t-1"}});
  CHECK(j["greeting"] == "hello from env");
  CHECK(fs::equivalent(j["cwd"].get<std::string>(), python_root()));

  inv.id = "inv-2";
  inv.payload = "";
  r = worker.call(inv);
  REQUIRE(r.ok);
  CHECK(parse_json(r.payload)["event"] == json::object());

  worker.close_socket();
  CHECK(worker.wait_exit() == 0);
  CHECK(worker.stdout_text().find("line one\n") != std::string::npos);
  std::string err = worker.stderr_text();
  CHECK(err.find("[WARNING]\t") != std::string::npos);
  CHECK(err.find("Z\treq-1\twarned\rsecond line\n") != std::string::npos);
}

TEST_CASE("python: results and errors", "[runtime][python]") {
  struct Case {
    const char* handler;
    bool ok;
    std::string payload_or_type;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"handlers.str_result", true, "hello", ""},
      {"handlers.bytes_result", true, std::string("\x00\x01\x02\xff\xfe", 5), ""},
      {"handlers.none_result", true, "", ""},
      {"handlers.dict_result", true, R"({"a": 1, "b": [true, null], "d": 1.5})", ""},
      {"pkg/sub/mod.handler", true, R"({"from": "pkg/sub/mod.py", "event": {}})", ""},
      {"handlers.raises", false, "ValueError", "bad value"},
      {"handlers.unserialisable", false, "Runtime.MarshalError", ""},
  };
  for (const auto& c : cases) {
    INFO("handler " << c.handler);
    Worker worker(Runtime::python, python_root(), c.handler);
    worker.expect_ready();
    Reply r = worker.call("{}");
    CHECK(r.ok == c.ok);
    if (c.ok) {
      CHECK(r.payload == c.payload_or_type);
    } else {
      CHECK(r.type == c.payload_or_type);
      if (!c.message.empty()) CHECK(r.message == c.message);
    }
    Invoke again;
    again.id = "inv-2";
    CHECK(worker.call(again).ok == c.ok);
    worker.close_socket();
    CHECK(worker.wait_exit() == 0);
  }
}

TEST_CASE("python: an exception carries a formatted traceback", "[runtime][python]") {
  Worker worker(Runtime::python, python_root(), "handlers.raises");
  worker.expect_ready();
  Reply r = worker.call("{}");
  REQUIRE_FALSE(r.ok);
  REQUIRE_FALSE(r.stack.empty());
  CHECK(r.stack.front() == "Traceback (most recent call last):");
  CHECK(r.stack.back() == "ValueError: bad value");
  bool names_fixture = false;
  for (const auto& line : r.stack) names_fixture |= line.find("handlers.py") != std::string::npos;
  CHECK(names_fixture);
}

TEST_CASE("python: get_remaining_time_in_millis counts down", "[runtime][python]") {
  Worker worker(Runtime::python, python_root(), "handlers.remaining");
  worker.expect_ready();
  Invoke inv;
  inv.deadline_ms = now_ms() + 5000;
  Reply r = worker.call(inv);
  REQUIRE(r.ok);
  json j = parse_json(r.payload);
  int64_t first = j["first"], second = j["second"];
  CHECK(first <= 5000);
  CHECK(first > 2000);
  CHECK(second <= first - 40);
  CHECK(second > 0);
}

TEST_CASE("python: load failures are init_error frames and a non-zero exit", "[runtime][python]") {
  expect_load_failures(Runtime::python, python_root(),
                       {{"handlers.nope", "Runtime.HandlerNotFound"},
                        {"missing.handler", "Runtime.ImportModuleError"},
                        {"broken.handler", "Runtime.ImportModuleError"},
                        {"syntax.handler", "Runtime.UserCodeSyntaxError"},
                        {"nodot", "Runtime.MalformedHandlerName"}});
}

TEST_CASE("python: sys.exit(0) inside a handler is still a crash", "[runtime][python]") {
  Worker worker(Runtime::python, python_root(), "handlers.exit_zero");
  worker.expect_ready();
  worker.invoke(Invoke{});
  CHECK_FALSE(worker.next_reply().has_value());
  auto code = worker.wait_exit();
  REQUIRE(code.has_value());
  CHECK(*code != 0);
}

TEST_CASE("python: payloads: binary, 1 MiB, 64-bit numbers through JSON", "[runtime][python]") {
  Worker info_worker(Runtime::python, python_root(), "handlers.event_info");
  info_worker.expect_ready();
  Reply r = info_worker.call(std::string("\xff\xfe\x00\x80 not utf-8", 15));
  REQUIRE(r.ok);
  json j = parse_json(r.payload);
  CHECK(j["type"] == "bytes");
  CHECK(j["length"] == 15);
  r = info_worker.call("plain text");
  CHECK(parse_json(r.payload)["type"] == "str");

  Worker echo(Runtime::python, python_root(), "handlers.echo");
  echo.expect_ready();
  std::string big(1 << 20, 'x');
  Invoke inv;
  inv.payload = big;
  r = echo.call(inv);
  REQUIRE(r.ok);
  CHECK(r.payload == big);

  json numbers = {{"i64_max", std::numeric_limits<int64_t>::max()},
                  {"i64_min", std::numeric_limits<int64_t>::min()},
                  {"u64_max", std::numeric_limits<uint64_t>::max()},
                  {"neg", -1234567890123LL},
                  {"small", -5},
                  {"float", 3.25},
                  {"tiny", -1.5e-300},
                  {"nested", {{"list", {1, -2, 0.5}}}}};
  inv.id = "inv-numbers";
  inv.payload = numbers.dump();
  r = echo.call(inv);
  REQUIRE(r.ok);
  CHECK(parse_json(r.payload) == numbers);
}

TEST_CASE("python: msgpack codec round-trips every shape msgpack-c produces", "[runtime][python]") {
  Worker worker(Runtime::python, python_root(), "unused.handler",
                {python_binary(), source_path("tests/runtimes/codec_echo.py")});
  check_codec_echo(worker, /*integral_floats=*/true);
}
