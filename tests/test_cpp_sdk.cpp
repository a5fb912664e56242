// The C++ function SDK end to end: the built example and test-worker executables are started the
// way the sidecar starts them (a socketpair on fd 3) and driven with core's frame codec. The SDK's
// own codec is also checked in-process against core's, so both halves agree byte for byte.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <random>
#include <stdexcept>
#include <string>

#include "core/frame_codec.hpp"
#include "sidecar/sdk/natsfn/function.hpp"
#include "tests/support/nats_server.hpp"

using namespace natsfn;
using namespace std::chrono_literals;

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

InvokeFrame make_invoke(std::string id, std::string payload) {
  InvokeFrame f;
  f.id = std::move(id);
  f.payload = std::move(payload);
  f.headers = {{"Content-Type", "application/octet-stream"}};
  f.deadline_ms = now_ms() + 30'000;
  f.ctx = {"echo", "SHA-256=test", 128, "echo.lambda", "req-" + f.id};
  return f;
}

// A worker process started as the sidecar starts one: frame socket on fd 3, stderr on a pipe.
class Worker {
 public:
  explicit Worker(const std::string& path, bool give_fd3 = true) {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    int err[2];
    REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      // Only async-signal-safe calls between fork and exec.
      ::dup2(err[1], 2);
      if (give_fd3) {
        if (sv[1] == 3) {
          ::fcntl(3, F_SETFD, 0);
        } else {
          ::dup2(sv[1], 3);
        }
      } else {
        ::close(3);
      }
      char* const argv[] = {const_cast<char*>(path.c_str()), nullptr};
      ::execv(path.c_str(), argv);
      ::_exit(127);
    }
    ::close(sv[1]);
    ::close(err[1]);
    sock_ = sv[0];
    stderr_ = err[0];
  }

  ~Worker() {
    if (sock_ >= 0) ::close(sock_);
    if (stderr_ >= 0) ::close(stderr_);
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }

  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void send(const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::send(sock_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      REQUIRE(n > 0);
      done += static_cast<size_t>(n);
    }
  }

  // The next frame the worker sends, or nullopt on end of stream or when `timeout` passes.
  std::optional<WorkerFrame> read_frame(std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto next = reader_.next()) {
        REQUIRE(next->ok());
        auto frame = decode_worker_frame(next->value());
        INFO(frame.status().message());
        REQUIRE(frame.ok());
        return std::move(frame).value();
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{sock_, POLLIN, 0};
      const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) return std::nullopt;
      char buf[65536];
      const ssize_t n = ::read(sock_, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return std::nullopt;
      reader_.feed(buf, static_cast<size_t>(n));
    }
  }

  WorkerFrame expect_frame() {
    auto frame = read_frame();
    INFO("worker stderr: " << drain_stderr());
    REQUIRE(frame.has_value());
    return *frame;
  }

  WorkerFrame invoke(const InvokeFrame& inv) {
    send(encode_invoke(inv));
    WorkerFrame result = expect_frame();
    REQUIRE(result.kind == WorkerFrame::Kind::result);
    CHECK(result.id == inv.id);
    return result;
  }

  // Closes our end (the sidecar going away) so the worker sees end-of-file.
  void close_socket() {
    ::close(sock_);
    sock_ = -1;
  }

  // The raw wait status once the worker exits, or -1 if it is still running after `timeout`.
  int wait_exit(std::chrono::milliseconds timeout = 10s) {
    int status = -1;
    const bool gone = test::wait_until(
        [&] {
          const pid_t r = ::waitpid(pid_, &status, WNOHANG);
          return r == pid_;
        },
        timeout);
    if (!gone) return -1;
    exited_ = true;
    return status;
  }

  std::string drain_stderr() {
    std::string out;
    char buf[4096];
    pollfd p{stderr_, POLLIN, 0};
    while (::poll(&p, 1, 0) > 0) {
      const ssize_t n = ::read(stderr_, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

 private:
  pid_t pid_ = -1;
  int sock_ = -1;
  int stderr_ = -1;
  bool exited_ = false;
  FrameReader reader_;
};

int exit_code(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1000 - status; }

std::string hello_path() { return test::build_path("examples/hello-cpp/hello"); }
std::string echo_path() { return test::build_path("examples/echo-cpp/echo"); }
std::string worker_path(const std::string& name) {
  return test::build_path("tests/workers/" + name + "/worker");
}

}  // namespace

TEST_CASE("hello says ready, answers exactly \"hello\", and exits 0 on EOF", "[cpp_sdk]") {
  Worker w(hello_path());
  CHECK(w.expect_frame().kind == WorkerFrame::Kind::ready);
  for (int i = 0; i < 3; ++i) {
    WorkerFrame r = w.invoke(make_invoke("h" + std::to_string(i), ""));
    CHECK(r.ok);
    CHECK(r.payload == "hello");
    CHECK(r.payload.size() == 5);
  }
  w.close_socket();
  CHECK(exit_code(w.wait_exit()) == 0);
}

TEST_CASE("echo returns a 1 MiB binary payload unchanged", "[cpp_sdk]") {
  Worker w(echo_path());
  REQUIRE(w.expect_frame().kind == WorkerFrame::Kind::ready);

  std::string payload(1u << 20, '\0');
  std::mt19937 rng(7);
  for (char& c : payload) c = static_cast<char>(rng() & 0xff);
  WorkerFrame r = w.invoke(make_invoke("big", payload));
  REQUIRE(r.ok);
  CHECK(r.payload.size() == payload.size());
  CHECK(r.payload == payload);

  CHECK(w.invoke(make_invoke("empty", "")).payload.empty());
  CHECK(w.invoke(make_invoke("nul", std::string("a\0b", 3))).payload == std::string("a\0b", 3));
  w.close_socket();
  CHECK(exit_code(w.wait_exit()) == 0);
}

TEST_CASE("echo handles two invoke frames arriving in one write", "[cpp_sdk]") {
  Worker w(echo_path());
  REQUIRE(w.expect_frame().kind == WorkerFrame::Kind::ready);
  w.send(encode_invoke(make_invoke("one", "first")) + encode_invoke(make_invoke("two", "second")));
  WorkerFrame a = w.expect_frame();
  WorkerFrame b = w.expect_frame();
  CHECK(a.id == "one");
  CHECK(a.payload == "first");
  CHECK(b.id == "two");
  CHECK(b.payload == "second");
}

TEST_CASE("a throwing handler becomes ok:false and the worker stays warm", "[cpp_sdk]") {
  Worker w(worker_path("throw"));
  REQUIRE(w.expect_frame().kind == WorkerFrame::Kind::ready);
  for (const char* input : {"x", "y"}) {
    WorkerFrame r = w.invoke(make_invoke(std::string("t-") + input, input));
    CHECK_FALSE(r.ok);
    CHECK(r.error.type == "std::invalid_argument");
    CHECK(r.error.message == std::string("bad input: ") + input);
  }
  w.close_socket();
  CHECK(exit_code(w.wait_exit()) == 0);
}

TEST_CASE("a throwing init sends init_error and exits 1", "[cpp_sdk]") {
  Worker w(worker_path("init-error"));
  WorkerFrame f = w.expect_frame();
  CHECK(f.kind == WorkerFrame::Kind::init_error);
  CHECK(f.error.type == "std::runtime_error");
  CHECK(f.error.message == "config missing: NATSFN_TEST_CONFIG");
  CHECK(exit_code(w.wait_exit()) == 1);
}

TEST_CASE("the crash worker dies mid-invocation with code 3 and a stderr line", "[cpp_sdk]") {
  Worker w(worker_path("crash"));
  REQUIRE(w.expect_frame().kind == WorkerFrame::Kind::ready);
  w.send(encode_invoke(make_invoke("c", "")));
  CHECK_FALSE(w.read_frame().has_value());  // end of stream, no result
  CHECK(exit_code(w.wait_exit()) == 3);
  CHECK(w.drain_stderr().find("about to exit with code 3") != std::string::npos);
}

TEST_CASE("the sleep worker never answers until it is killed", "[cpp_sdk]") {
  Worker w(worker_path("sleep"));
  REQUIRE(w.expect_frame().kind == WorkerFrame::Kind::ready);
  w.send(encode_invoke(make_invoke("s", "")));
  // The handler logs before it sleeps: once the line is there the invocation is in progress.
  std::string err;
  REQUIRE(test::wait_until([&] {
    err += w.drain_stderr();
    return err.find("sleeping forever") != std::string::npos;
  }));
  CHECK_FALSE(w.read_frame(200ms).has_value());
  CHECK(w.wait_exit(0ms) == -1);  // still running; the destructor kills and reaps it
}

TEST_CASE("a worker exits 2 on a bad frame from the sidecar and without fd 3", "[cpp_sdk]") {
  {
    Worker w(echo_path());
    REQUIRE(w.expect_frame().kind == WorkerFrame::Kind::ready);
    w.send(std::string("\0\0\0\x03\x93\x01\x02", 7));  // a msgpack array, not a map
    CHECK(exit_code(w.wait_exit()) == 2);
  }
  {
    Worker w(echo_path(), /*give_fd3=*/false);
    CHECK(exit_code(w.wait_exit()) == 2);
    CHECK(w.drain_stderr().find("fd 3 is not open") != std::string::npos);
  }
}

TEST_CASE("SDK and core codecs agree in both directions", "[cpp_sdk]") {
  InvokeFrame in = make_invoke("id-1", std::string("\0\xff{}", 4));
  const std::string frame = encode_invoke(in);
  std::string error;
  auto inv = sdk_detail::decode_invoke(std::string_view(frame).substr(4), error);
  INFO(error);
  REQUIRE(inv.has_value());
  CHECK(inv->id == in.id);
  CHECK(inv->payload == in.payload);
  CHECK(inv->headers == in.headers);
  CHECK(inv->deadline_ms == in.deadline_ms);
  CHECK(inv->function == in.ctx.function);
  CHECK(inv->version == in.ctx.version);
  CHECK(inv->memory_mb == in.ctx.memory_mb);
  CHECK(inv->subject == in.ctx.subject);
  CHECK(inv->request_id == in.ctx.request_id);

  auto decode = [](const std::string& f) {
    auto r = decode_worker_frame(std::string_view(f).substr(4));
    INFO(r.status().message());
    REQUIRE(r.ok());
    return std::move(r).value();
  };
  CHECK(decode(sdk_detail::encode_ready()).kind == WorkerFrame::Kind::ready);
  auto ie = decode(sdk_detail::encode_init_error("T", "M"));
  CHECK(ie.kind == WorkerFrame::Kind::init_error);
  CHECK(ie.error.type == "T");
  CHECK(ie.error.message == "M");
  auto ok = decode(sdk_detail::encode_ok("a", std::string("\0b", 2), {{"H", "v"}}));
  CHECK(ok.ok);
  CHECK(ok.payload == std::string("\0b", 2));
  CHECK(ok.headers == Headers{{"H", "v"}});
  auto err = decode(sdk_detail::encode_error("b", "E", "msg", {"l1", "l2"}));
  CHECK_FALSE(err.ok);
  CHECK(err.error.stack == std::vector<std::string>{"l1", "l2"});
}

TEST_CASE("run_one fills Context and maps handler outcomes", "[cpp_sdk]") {
  auto decode = [](const std::string& f) {
    auto r = decode_worker_frame(std::string_view(f).substr(4));
    REQUIRE(r.ok());
    return std::move(r).value();
  };
  auto invoke = [] {
    sdk_detail::Invoke inv;
    inv.id = "ctx-1";
    inv.payload = "{\"a\":1}";
    inv.headers = {{"K", "V"}};
    inv.deadline_ms = now_ms() + 5000;
    inv.function = "fn";
    inv.version = "SHA-256=v";
    inv.memory_mb = 256;
    inv.subject = "fn.lambda";
    inv.request_id = "req-9";
    return inv;
  };

  Context seen;
  bool json = false;
  std::string header;
  auto ok = decode(sdk_detail::run_one(
      [&](const Event& ev, Context& ctx) {
        seen = ctx;
        json = ev.looks_like_json();
        header = std::string(ev.header("K"));
        return Response::text("done").header("X-Out", "1");
      },
      invoke()));
  CHECK(ok.ok);
  CHECK(ok.id == "ctx-1");
  CHECK(ok.payload == "done");
  CHECK(ok.headers == Headers{{"X-Out", "1"}});
  CHECK(json);
  CHECK(header == "V");
  CHECK(seen.invocation_id == "ctx-1");
  CHECK(seen.request_id == "req-9");
  CHECK(seen.function_name == "fn");
  CHECK(seen.version == "SHA-256=v");
  CHECK(seen.memory_mb == 256);
  CHECK(seen.subject == "fn.lambda");
  CHECK(seen.remaining_time_ms() > 0);
  CHECK(seen.remaining_time_ms() <= 5000);

  auto returned_error = decode(sdk_detail::run_one(
      [](const Event&, Context&) { return Response::error("Validation", "no", {"s"}); }, invoke()));
  CHECK_FALSE(returned_error.ok);
  CHECK(returned_error.error.type == "Validation");
  CHECK(returned_error.error.stack == std::vector<std::string>{"s"});

  auto thrown_int =
      decode(sdk_detail::run_one([](const Event&, Context&) -> Response { throw 42; }, invoke()));
  CHECK_FALSE(thrown_int.ok);
  CHECK(thrown_int.error.type == "Error");

  auto too_big = decode(sdk_detail::run_one(
      [](const Event&, Context&) { return Response::bytes(std::string(kMaxFrameBytes, 'x')); },
      invoke()));
  CHECK_FALSE(too_big.ok);
  CHECK(too_big.error.type == "Function.ResponseSizeTooLarge");
}

TEST_CASE("the SDK decoder survives garbage", "[cpp_sdk][fuzz]") {
  std::mt19937 rng(3);
  const std::string seed = encode_invoke(make_invoke("f", "payload")).substr(4);
  for (int iter = 0; iter < 3000; ++iter) {
    std::string body = seed;
    if (iter % 2 == 0) {
      body.resize(rng() % 120);
      for (char& c : body) c = static_cast<char>(rng() & 0xff);
    } else {
      for (int k = 0; k < 4; ++k) body[rng() % body.size()] = static_cast<char>(rng() & 0xff);
    }
    std::string error;
    auto inv = sdk_detail::decode_invoke(body, error);
    if (!inv) CHECK_FALSE(error.empty());
  }
}
