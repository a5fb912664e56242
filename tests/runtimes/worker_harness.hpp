#pragma once
// A worker process driven as the sidecar drives it: fork/exec with a socketpair on fd 3, cwd and
// the runtime environment set, stdout and stderr captured to files. Frames are encoded and decoded
// with msgpack-c directly (not core/frame_codec), so tests using this cross-check the runtimes'
// own msgpack codecs against msgpack-c.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <msgpack.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/nats_server.hpp"

namespace natsfn::test::runtimes {

inline constexpr auto kFrameTimeout = std::chrono::seconds(15);

inline int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline std::string find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = dir + "/" + name;
    if (!dir.empty() && access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return name;
}

inline std::string python_binary() {
  return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : find_on_path("python3");
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// What a worker sent, flattened from the msgpack map.
struct Reply {
  std::string t;
  std::string id;
  bool ok = false;
  std::string payload;
  bool payload_is_bin = false;
  std::map<std::string, std::string> headers;
  std::string type;  // init_error type, or the result's error type
  std::string message;
  std::vector<std::string> stack;
};

inline std::string as_string(const msgpack::object& o) {
  if (o.type == msgpack::type::STR) return std::string(o.via.str.ptr, o.via.str.size);
  if (o.type == msgpack::type::BIN) return std::string(o.via.bin.ptr, o.via.bin.size);
  throw std::runtime_error("expected str or bin");
}

inline Reply to_reply(const msgpack::object& root) {
  Reply r;
  auto fields = root.as<std::map<std::string, msgpack::object>>();
  r.t = as_string(fields.at("t"));
  if (fields.count("id")) r.id = as_string(fields.at("id"));
  if (fields.count("ok")) r.ok = fields.at("ok").as<bool>();
  if (fields.count("payload")) {
    r.payload = as_string(fields.at("payload"));
    r.payload_is_bin = fields.at("payload").type == msgpack::type::BIN;
  }
  if (fields.count("headers")) {
    for (auto& [k, v] : fields.at("headers").as<std::map<std::string, msgpack::object>>())
      r.headers[k] = as_string(v);
  }
  if (r.t == "init_error") {
    r.type = as_string(fields.at("type"));
    r.message = as_string(fields.at("message"));
  }
  if (fields.count("error")) {
    auto err = fields.at("error").as<std::map<std::string, msgpack::object>>();
    r.type = as_string(err.at("type"));
    r.message = as_string(err.at("message"));
    for (auto& line : err.at("stack").as<std::vector<msgpack::object>>())
      r.stack.push_back(as_string(line));
  }
  return r;
}

struct Invoke {
  std::string id = "inv-1";
  std::string payload;
  std::map<std::string, std::string> headers;
  int64_t deadline_ms = 0;  // 0: now + 10 s
  std::string request_id = "req-1";
  bool fixed_width_deadline = false;  // force the int64 (0xd3) encoding
};

// Encodes an invoke frame with msgpack-c, length prefix included.
inline std::string encode_invoke(const Invoke& inv) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_map(6);
  pk.pack(std::string("t"));
  pk.pack(std::string("invoke"));
  pk.pack(std::string("id"));
  pk.pack(inv.id);
  pk.pack(std::string("payload"));
  pk.pack_bin(static_cast<uint32_t>(inv.payload.size()));
  pk.pack_bin_body(inv.payload.data(), static_cast<uint32_t>(inv.payload.size()));
  pk.pack(std::string("headers"));
  pk.pack(inv.headers);
  pk.pack(std::string("deadline_ms"));
  int64_t deadline = inv.deadline_ms ? inv.deadline_ms : now_ms() + 10000;
  if (inv.fixed_width_deadline)
    pk.pack_fix_int64(deadline);
  else
    pk.pack(deadline);
  pk.pack(std::string("ctx"));
  pk.pack_map(5);
  pk.pack(std::string("function"));
  pk.pack(std::string("fixture-fn"));
  pk.pack(std::string("version"));
  pk.pack(std::string("SHA-256=abc"));
  pk.pack(std::string("memory_mb"));
  pk.pack(int64_t{256});
  pk.pack(std::string("subject"));
  pk.pack(std::string("fixture.subject"));
  pk.pack(std::string("request_id"));
  pk.pack(inv.request_id);
  std::string frame(4, '\0');
  uint32_t n = static_cast<uint32_t>(buf.size());
  frame[0] = static_cast<char>(n >> 24);
  frame[1] = static_cast<char>(n >> 16);
  frame[2] = static_cast<char>(n >> 8);
  frame[3] = static_cast<char>(n);
  frame.append(buf.data(), buf.size());
  return frame;
}

inline std::string with_length_prefix(const msgpack::sbuffer& body) {
  uint32_t n = static_cast<uint32_t>(body.size());
  std::string frame{static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                    static_cast<char>(n >> 8), static_cast<char>(n)};
  frame.append(body.data(), body.size());
  return frame;
}

enum class Runtime { node, python };

// One worker process with fd 3 on our socketpair, stdout and stderr in files of a temp dir.
class Worker {
 public:
  Worker(Runtime runtime, const std::string& fixture_root, const std::string& handler,
         const std::vector<std::string>& script_override = {}) {
    char tmpl[] = "/tmp/natsfn-runtime-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp");
    dir_ = tmpl;

    std::vector<std::string> argv;
    if (runtime == Runtime::node) {
      argv = {find_on_path("node"), source_path("sidecar/runtimes/node/bootstrap.js")};
    } else {
      argv = {python_binary(), source_path("sidecar/runtimes/python/bootstrap.py")};
    }
    if (!script_override.empty()) argv = script_override;
    const char* path = std::getenv("PATH");
    std::vector<std::string> env = {
        std::string("PATH=") + (path ? path : "/usr/bin:/bin"),
        "LAMBDA_TASK_ROOT=" + fixture_root,
        "NATSFN_HANDLER=" + handler,
        "AWS_LAMBDA_FUNCTION_NAME=fixture-fn",
        "AWS_LAMBDA_FUNCTION_VERSION=SHA-256=abc",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
        "GREETING=hello from env",
    };

    // Everything the child needs is prepared before fork: after it only async-signal-safe calls.
    std::vector<char*> argv_c, env_c;
    for (auto& a : argv) argv_c.push_back(a.data());
    argv_c.push_back(nullptr);
    for (auto& e : env) env_c.push_back(e.data());
    env_c.push_back(nullptr);
    std::string out_path = dir_ + "/stdout", err_path = dir_ + "/stderr";
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int sv[2];
    if (out < 0 || err < 0 || devnull < 0 ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
      throw std::runtime_error("worker setup failed");
    // The child dup2()s these onto 0-3; moving them to 10 and up first means no dup2 can
    // overwrite a descriptor that a later one still needs.
    for (int* fd : {&out, &err, &devnull, &sv[1]}) {
      int high = fcntl(*fd, F_DUPFD_CLOEXEC, 10);
      if (high < 0) throw std::runtime_error("fcntl F_DUPFD_CLOEXEC failed");
      close(*fd);
      *fd = high;
    }

    pid_ = fork();
    if (pid_ == 0) {
      // dup2 clears close-on-exec on the target, so exactly fds 0-3 survive the exec.
      if (dup2(sv[1], 3) < 0) _exit(120);
      if (dup2(devnull, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(121);
      if (chdir(fixture_root.c_str()) != 0) _exit(122);
      execve(argv_c[0], argv_c.data(), env_c.data());
      _exit(127);
    }
    close(sv[1]);
    close(out);
    close(err);
    close(devnull);
    if (pid_ < 0) {
      close(sv[0]);
      throw std::runtime_error("fork failed");
    }
    fd_ = sv[0];
  }

  ~Worker() {
    if (fd_ >= 0) close(fd_);
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Writes bytes, optionally in pieces so the worker must reassemble frames.
  void send_raw(const std::string& bytes, size_t piece = 0) {
    size_t step = piece ? piece : bytes.size();
    for (size_t off = 0; off < bytes.size(); off += step) {
      size_t len = std::min(step, bytes.size() - off);
      size_t done = 0;
      while (done < len) {
        ssize_t n = ::send(fd_, bytes.data() + off + done, len - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw std::runtime_error("send failed");
        done += static_cast<size_t>(n);
      }
    }
  }

  void invoke(const Invoke& inv) { send_raw(encode_invoke(inv)); }

  // The next frame body, or nullopt on EOF or timeout.
  std::optional<std::string> next_frame_body(std::chrono::milliseconds timeout = kFrameTimeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (buffer_.size() >= 4) {
        auto* p = reinterpret_cast<const unsigned char*>(buffer_.data());
        size_t n = (size_t{p[0]} << 24) | (size_t{p[1]} << 16) | (size_t{p[2]} << 8) | p[3];
        if (buffer_.size() >= 4 + n) {
          std::string body = buffer_.substr(4, n);
          buffer_.erase(0, 4 + n);
          return body;
        }
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd pfd{fd_, POLLIN, 0};
      int r = poll(&pfd, 1, static_cast<int>(left.count()));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return std::nullopt;
      char chunk[65536];
      ssize_t got = ::recv(fd_, chunk, sizeof chunk, 0);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<size_t>(got));
    }
  }

  std::optional<Reply> next_reply(std::chrono::milliseconds timeout = kFrameTimeout) {
    auto body = next_frame_body(timeout);
    if (!body) return std::nullopt;
    auto handle = msgpack::unpack(body->data(), body->size());
    return to_reply(handle.get());
  }

  // Waits for ready; on anything else the test fails with the worker's stderr.
  void expect_ready() {
    auto reply = next_reply();
    INFO("stderr: " << stderr_text());
    REQUIRE(reply.has_value());
    REQUIRE(reply->t == "ready");
  }

  Reply call(const Invoke& inv) {
    invoke(inv);
    auto reply = next_reply();
    INFO("stderr: " << stderr_text());
    REQUIRE(reply.has_value());
    REQUIRE(reply->t == "result");
    CHECK(reply->id == inv.id);
    return *reply;
  }

  Reply call(const std::string& payload) {
    Invoke inv;
    inv.payload = payload;
    return call(inv);
  }

  // The exit code (128 + signal for a signal death), or nullopt if still running at the deadline.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout = kFrameTimeout) {
    if (!exited_) {
      wait_until(
          [&] {
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) != pid_) return false;
            exited_ = true;
            exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            return true;
          },
          timeout);
    }
    if (!exited_) return std::nullopt;
    return exit_code_;
  }

  void close_socket() {
    close(fd_);
    fd_ = -1;
  }

  std::string stdout_text() const { return read_file(dir_ + "/stdout"); }
  std::string stderr_text() const { return read_file(dir_ + "/stderr"); }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  int fd_ = -1;
  bool exited_ = false;
  int exit_code_ = 0;
  std::string buffer_;
};

}  // namespace natsfn::test::runtimes
