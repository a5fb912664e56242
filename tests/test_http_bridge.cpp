// natsfn-http end to end: a real nats-server, sidecar and bridge process, driven by curl and by
// raw sockets where curl is too polite (pipelining, malformed requests, slow clients).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "tests/support/sidecar_env.hpp"

using namespace natsfn;
using namespace natsfn::test;
using json = nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// A natsfn-http process on an ephemeral port, found through --port-file.
class Bridge {
 public:
  Bridge(const std::string& nats_url, const std::string& dir, std::vector<std::string> extra = {}) {
    static int counter = 0;
    std::string id = std::to_string(++counter);
    std::string port_file = dir + "/bridge" + id + ".port";
    std::vector<std::string> argv = {build_path("bridge-http/natsfn-http"),
                                     "--server",
                                     nats_url,
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--port-file",
                                     port_file,
                                     "--log-level",
                                     "debug"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    proc_ = std::make_unique<ChildProcess>(argv, dir + "/bridge" + id + ".log");
    bool up = wait_until([&] { return fs::exists(port_file) || !proc_->running(); }, 20s);
    INFO(proc_->log());
    REQUIRE(up);
    REQUIRE(proc_->running());
    port_ = std::stoi(read_file(port_file));
  }
  int port() const { return port_; }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  ChildProcess& process() { return *proc_; }
  std::string log() const { return proc_->log(); }

 private:
  std::unique_ptr<ChildProcess> proc_;
  int port_ = 0;
};

struct HttpResult {
  int status = 0;
  std::string body;
  std::string headers;  // raw response header block(s)
  std::string out;      // curl's stdout (the -w output)
  std::string err;
  int header_count(const std::string& line) const {
    int n = 0;
    for (size_t p = headers.find(line); p != std::string::npos; p = headers.find(line, p + 1)) ++n;
    return n;
  }
};

// curl -sS with the body and headers captured to files (binary safe); status from -w.
HttpResult curl(std::vector<std::string> args) {
  TempDir t;
  std::vector<std::string> argv = {
      "/usr/bin/curl",  "-sS", "--max-time",        "20", "-o",
      t.path + "/body", "-D",  t.path + "/headers", "-w", "%{http_code}"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run_command(argv, 30s);
  HttpResult h;
  h.out = r.out;
  h.err = r.err;
  h.body = read_file(t.path + "/body");
  h.headers = read_file(t.path + "/headers");
  try {
    h.status = std::stoi(r.out.substr(r.out.size() >= 3 ? r.out.size() - 3 : 0));
  } catch (...) {
    h.status = 0;
  }
  return h;
}

// A blocking loopback socket with a receive timeout.
int dial(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

void send_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

// Reads until EOF (or the receive timeout); returns what arrived.
std::string read_until_eof(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

struct RawResponse {
  int status = 0;
  std::string head;
  std::string body;
};

// Splits complete responses (Content-Length framed, as the bridge always frames them) off the
// front of buf.
std::vector<RawResponse> split_responses(std::string& buf) {
  std::vector<RawResponse> out;
  for (;;) {
    size_t end = buf.find("\r\n\r\n");
    if (end == std::string::npos) break;
    std::string head = buf.substr(0, end);
    size_t length = 0;
    if (size_t p = head.find("Content-Length: "); p != std::string::npos)
      length = std::stoul(head.substr(p + 16));
    if (buf.size() < end + 4 + length) break;
    RawResponse r;
    r.status = std::stoi(head.substr(9, 3));
    r.head = head;
    r.body = buf.substr(end + 4, length);
    buf.erase(0, end + 4 + length);
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<RawResponse> read_responses(int fd, size_t count) {
  std::string buf;
  std::vector<RawResponse> all;
  char chunk[4096];
  while (all.size() < count) {
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    buf.append(chunk, static_cast<size_t>(n));
    for (auto& r : split_responses(buf)) all.push_back(std::move(r));
  }
  return all;
}

std::string random_bytes(size_t n) {
  std::mt19937 rng(12345);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

void write_shell_function(const std::string& dir, const std::string& name,
                          const std::string& body) {
  write_package(dir,
                {{"natsfn.json",
                  R"({"name":")" + name +
                      R"(","runtime":"exec","mode":"oneshot","handler":"run.sh","timeout":"10s"})"},
                 {"run.sh", "#!/bin/sh\n" + body}},
                {"run.sh"});
}

}  // namespace

TEST_CASE("an unmodified Lambda API Gateway handler served over HTTP", "[integration]") {
  SidecarEnv env;
  env.deploy(source_path("examples/http-api"));
  env.cli({"bind", "--http", "/hello", "-f", "http-api", "--method", "GET"});
  env.cli({"bind", "--http", "/items", "-f", "http-api", "--method", "POST"});
  env.cli({"bind", "--http", "/users/{id}", "-f", "http-api"});
  env.cli({"bind", "--http", "/binary", "-f", "http-api", "--method", "POST"});
  env.cli({"bind", "--http", "/teapot", "-f", "http-api"});
  auto sidecar = env.start_sidecar();
  // A shallow pipeline limit makes the pipelining section exercise pausing and resuming.
  Bridge bridge(env.server.url(), env.dir.path, {"--max-pipeline", "2"});
  INFO("sidecar: " << sidecar->log());
  REQUIRE(wait_until([&] { return curl({bridge.url("/users/0")}).status == 200; }, 30s, 100ms));
  INFO("bridge: " << bridge.log());

  SECTION("GET with query parameters") {
    auto r = curl({bridge.url("/hello?name=nats&tag=a&tag=b%20c")});
    REQUIRE(r.status == 200);
    auto j = json::parse(r.body);
    CHECK(j["message"] == "hello nats");
    CHECK(j["tags"] == json::array({"a", "b c"}));
    CHECK(j["sourceIp"] == "127.0.0.1");
    CHECK(j["requestId"].get<std::string>().size() == 36);
    CHECK(r.headers.find("X-Request-Id: " + j["requestId"].get<std::string>()) !=
          std::string::npos);
    CHECK(r.headers.find("Content-Type: application/json") != std::string::npos);
  }
  SECTION("POST JSON") {
    auto r = curl({"-X", "POST", "-H", "Content-Type: application/json", "--data",
                   R"({"id":7,"name":"seven"})", bridge.url("/items")});
    REQUIRE(r.status == 201);
    auto j = json::parse(r.body);
    CHECK(j["created"]["name"] == "seven");
    CHECK(j["contentType"] == "application/json");
    CHECK(r.headers.find("Location: /items/7") != std::string::npos);
  }
  SECTION("a path parameter, HEAD and HTTP/1.0") {
    auto r = curl({bridge.url("/users/a%20b")});
    REQUIRE(r.status == 200);
    CHECK(json::parse(r.body)["id"] == "a b");
    auto head = curl({"-I", bridge.url("/users/42")});
    CHECK(head.status == 200);
    CHECK(head.headers.find("Content-Length: 11") != std::string::npos);  // {"id":"42"}
    auto old = curl({"-0", bridge.url("/users/10")});
    CHECK(old.status == 200);
    CHECK(json::parse(old.body)["id"] == "10");
  }
  SECTION("binary bodies round trip (plain, chunked and with Expect: 100-continue)") {
    std::string bytes = random_bytes(64 * 1024);
    std::string file = env.dir.path + "/random.bin";
    write_file(file, bytes);
    auto r = curl({"--data-binary", "@" + file, "-H", "Content-Type: application/octet-stream",
                   bridge.url("/binary")});
    REQUIRE(r.status == 200);
    CHECK(r.body == bytes);
    auto chunked = curl(
        {"--data-binary", "@" + file, "-H", "Transfer-Encoding: chunked", bridge.url("/binary")});
    CHECK(chunked.status == 200);
    CHECK(chunked.body == bytes);
    auto expect = curl(
        {"-v", "--data-binary", "@" + file, "-H", "Expect: 100-continue", bridge.url("/binary")});
    CHECK(expect.status == 200);
    CHECK(expect.body == bytes);
    CHECK(expect.err.find("HTTP/1.1 100 Continue") != std::string::npos);
  }
  SECTION("custom status and multi-value headers") {
    auto r = curl({bridge.url("/teapot")});
    CHECK(r.status == 418);
    CHECK(r.body == "I'm a teapot");
    CHECK(r.header_count("Set-Cookie: ") == 2);
    CHECK(r.headers.find("Set-Cookie: a=1") != std::string::npos);
    CHECK(r.headers.find("Set-Cookie: b=2") != std::string::npos);
    CHECK(r.headers.find("X-Multi: one") != std::string::npos);
    CHECK(r.headers.find("X-Multi: two") != std::string::npos);
    CHECK(r.headers.find("Content-Type: text/plain") != std::string::npos);
  }
  SECTION("keep-alive: one connection serves several requests") {
    auto r = curl({"-w", "%{http_code} %{num_connects}\n", bridge.url("/users/1"),
                   bridge.url("/users/2"), bridge.url("/users/3")});
    // -w applies per URL; the first transfer connected, the others reused its connection.
    // (-o only takes the first body; the others land on stdout between the -w lines.)
    CHECK(r.out.rfind("200 1\n", 0) == 0);
    size_t reused = 0;
    for (size_t p = r.out.find("200 0\n"); p != std::string::npos; p = r.out.find("200 0\n", p + 1))
      ++reused;
    CHECK(reused == 2);
  }
  SECTION("pipelined requests are answered in order") {
    int fd = dial(bridge.port());
    std::string batch;
    for (int i = 1; i <= 5; ++i)
      batch += "GET /users/" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
    send_all(fd, batch);  // one send: the bridge sees them all in one read
    auto rs = read_responses(fd, 5);
    ::close(fd);
    REQUIRE(rs.size() == 5);
    for (int i = 0; i < 5; ++i) {
      CHECK(rs[i].status == 200);
      CHECK(json::parse(rs[i].body)["id"] == std::to_string(i + 1));
    }
  }
  CHECK(bridge.process().stop() == 0);
  CHECK(bridge.log().find("GET /users/0 200") != std::string::npos);  // the access log
}

TEST_CASE("each error status, provoked for real", "[integration]") {
  SidecarEnv env;
  TempDir ok, fail, slow;
  write_shell_function(ok.path, "ok",
                       "cat >/dev/null\necho '{\"statusCode\":200,\"body\":\"ok\"}'\n");
  write_shell_function(fail.path, "fail", "cat >/dev/null\necho 'it broke' >&2\nexit 3\n");
  write_shell_function(slow.path, "slow", "cat >/dev/null\nsleep 3\necho late\n");
  for (auto* p : {&ok, &fail, &slow}) env.deploy(p->path);
  env.cli({"bind", "--http", "/ok", "-f", "ok", "--method", "GET"});
  env.cli({"bind", "--http", "/fail", "-f", "fail"});
  env.cli({"bind", "--http", "/slow", "-f", "slow"});
  auto sidecar = env.start_sidecar();
  Bridge bridge(env.server.url(), env.dir.path, {"--timeout", "1", "--max-body", "1024"});
  INFO("sidecar: " << sidecar->log());
  REQUIRE(wait_until([&] { return curl({bridge.url("/ok")}).status == 200; }, 20s, 100ms));
  INFO("bridge: " << bridge.log());

  CHECK(curl({bridge.url("/nope")}).status == 404);
  auto wrong_method = curl({"-X", "DELETE", bridge.url("/ok")});
  CHECK(wrong_method.status == 405);
  CHECK(wrong_method.headers.find("Allow: GET") != std::string::npos);

  auto f = curl({bridge.url("/fail")});
  CHECK(f.status == 502);
  CHECK(f.body.find("\"errorMessage\"") != std::string::npos);
  CHECK(f.body.find("it broke") != std::string::npos);

  auto start = std::chrono::steady_clock::now();
  auto t = curl({bridge.url("/slow")});
  CHECK(t.status == 504);
  CHECK(std::chrono::steady_clock::now() - start < 2900ms);

  auto big = curl({"--data-binary", std::string(2000, 'x'), bridge.url("/ok")});
  CHECK(big.status == 413);
  auto big_chunked = curl({"--data-binary", std::string(2000, 'x'), "-H",
                           "Transfer-Encoding: chunked", bridge.url("/ok")});
  CHECK(big_chunked.status == 413);

  auto huge_header = curl({"-H", "X-Big: " + std::string(64 * 1024, 'a'), bridge.url("/ok")});
  CHECK(huge_header.status == 431);

  for (std::string bad :
       {"GARBAGE\r\n\r\n", "GET /ok FTP/1.1\r\n\r\n", "GET /o k HTTP/1.1\r\n\r\n",
        "GET /ok HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
        "GET /ok HTTP/1.1\r\nContent-Length: nope\r\n\r\n", "G\x01T /ok HTTP/1.1\r\n\r\n"}) {
    int fd = dial(bridge.port());
    send_all(fd, bad);
    std::string answer = read_until_eof(fd);  // answered, then closed
    ::close(fd);
    INFO(bad);
    CHECK(answer.rfind("HTTP/1.1 400 Bad Request\r\n", 0) == 0);
  }

  // Routes follow the bindings bucket live.
  env.cli({"bind", "--http", "/later/{proxy+}", "-f", "ok"});
  CHECK(wait_until([&] { return curl({bridge.url("/later/a/b")}).status == 200; }, 10s, 50ms));
  env.cli({"unbind", "--http", "/later/{proxy+}"});
  CHECK(wait_until([&] { return curl({bridge.url("/later/a/b")}).status == 404; }, 10s, 50ms));

  // Without a sidecar there is nobody to answer.
  CHECK(sidecar->process().stop() == 0);
  auto none = curl({bridge.url("/ok")});
  CHECK(none.status == 503);
  CHECK(bridge.process().running());
  CHECK(bridge.process().stop() == 0);
}

TEST_CASE("slow and vanishing clients, 500 connections, draining on SIGTERM", "[integration]") {
  SidecarEnv env;
  TempDir slow;
  write_shell_function(slow.path, "slow", "cat >/dev/null\nsleep 1\necho done\n");
  env.deploy(slow.path, {"--concurrency", "4"});
  env.deploy(example("echo-cpp"), {"--concurrency", "8", "--queue", "1000", "--warm", "2"});
  auto sidecar = env.start_sidecar();
  Bridge bridge(env.server.url(), env.dir.path,
                {"--default-routes", "--header-timeout", "1", "--idle-timeout", "2"});
  INFO("sidecar: " << sidecar->log());
  REQUIRE(wait_until(
      [&] {
        return curl({"-d", "hi", bridge.url("/echo")}).status == 200;
      },
      20s, 100ms));
  INFO("bridge: " << bridge.log());
  auto echoed = json::parse(curl({"-d", "hi", bridge.url("/echo/sub/path?q=1")}).body);
  CHECK(echoed["body"] == "hi");
  CHECK(echoed["pathParameters"]["proxy"] == "sub/path");
  CHECK(echoed["resource"] == "/echo/{proxy+}");

  SECTION("slow-loris: headers trickling in are cut off at the header timeout") {
    int fd = dial(bridge.port());
    auto start = std::chrono::steady_clock::now();
    send_all(fd, "GET /echo HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    bool closed = false;
    std::string got;
    while (!closed && std::chrono::steady_clock::now() - start < 6s) {
      send_all(fd, "a");
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) > 0) {
        char buf[512];
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
          closed = true;
        else
          got.append(buf, static_cast<size_t>(n));
      }
    }
    ::close(fd);
    auto took = std::chrono::steady_clock::now() - start;
    CHECK(closed);
    CHECK(took >= 900ms);
    CHECK(took < 4s);
    CHECK(got.rfind("HTTP/1.1 408", 0) == 0);
  }
  SECTION("an idle keep-alive connection is closed after the idle timeout") {
    int fd = dial(bridge.port());
    send_all(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nz");
    REQUIRE(read_responses(fd, 1).size() == 1);
    auto start = std::chrono::steady_clock::now();
    std::string rest = read_until_eof(fd);
    ::close(fd);
    CHECK(rest.empty());
    CHECK(std::chrono::steady_clock::now() - start < 5s);
  }
  SECTION("a client that disconnects mid-request costs nothing but the reply") {
    for (int i = 0; i < 3; ++i) {
      int fd = dial(bridge.port());
      send_all(fd, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
      ::close(fd);
    }
    // Each reply still comes back from the sidecar and is dropped; the bridge carries on.
    CHECK(wait_until(
        [&] {
          return bridge.log().find("GET /slow 4") != std::string::npos ||
                 bridge.log().find("GET /slow 200") != std::string::npos;
        },
        10s));
    CHECK(curl({"-d", "still", bridge.url("/echo")}).status == 200);
  }
  SECTION("500 concurrent connections are each answered or closed") {
    constexpr int kClients = 500;
    std::vector<int> fds;
    for (int i = 0; i < kClients; ++i) fds.push_back(dial(bridge.port()));
    for (int fd : fds)
      send_all(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
    std::vector<std::string> bufs(kClients);
    std::vector<int> outcome(kClients, 0);  // 0 pending, HTTP status, or -1 closed
    auto deadline = std::chrono::steady_clock::now() + 40s;
    int pending = kClients;
    while (pending > 0 && std::chrono::steady_clock::now() < deadline) {
      std::vector<pollfd> polls;
      std::vector<int> index;
      for (int i = 0; i < kClients; ++i)
        if (outcome[i] == 0) {
          polls.push_back({fds[i], POLLIN, 0});
          index.push_back(i);
        }
      if (::poll(polls.data(), polls.size(), 200) <= 0) continue;
      for (size_t k = 0; k < polls.size(); ++k) {
        if (!(polls[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        int i = index[k];
        char buf[4096];
        ssize_t n = ::recv(fds[i], buf, sizeof buf, 0);
        if (n <= 0) {
          outcome[i] = -1;
          --pending;
          continue;
        }
        bufs[i].append(buf, static_cast<size_t>(n));
        auto rs = split_responses(bufs[i]);
        if (!rs.empty()) {
          outcome[i] = rs[0].status;
          --pending;
        }
      }
    }
    for (int fd : fds) ::close(fd);
    int ok = 0;
    for (int o : outcome) ok += o == 200;
    CHECK(pending == 0);
    CHECK(ok > kClients / 2);
    CHECK(bridge.process().running());
    CHECK(curl({"-d", "after", bridge.url("/echo")}).status == 200);
  }
  SECTION("SIGTERM: stop accepting, finish the request in flight, exit 0") {
    int fd = dial(bridge.port());
    send_all(fd, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(
        wait_until([&] { return bridge.log().find("GET /slow -> slow") != std::string::npos; }));
    bridge.process().signal(SIGTERM);
    auto rs = read_responses(fd, 1);
    ::close(fd);
    REQUIRE(rs.size() == 1);
    CHECK(rs[0].status == 200);
    CHECK(rs[0].body == "done\n");
    CHECK(rs[0].head.find("Connection: close") != std::string::npos);
    CHECK(bridge.process().wait(10s) == 0);
    CHECK(curl({bridge.url("/echo")}).status == 0);  // nobody listening any more
    return;
  }
  CHECK(bridge.process().stop() == 0);
}
