// The sidecar end to end: real nats-server, real CLI, real worker processes.
#include <signal.h>

#include <fstream>

#include "tests/support/sidecar_env.hpp"

using namespace natsfn;
using namespace natsfn::test;

TEST_CASE("a bound subject answers with the function's result and the reply headers", "[integration]") {
  SidecarEnv env;
  env.deploy(example("hello-cpp"));
  env.bind("myfunction.lambda", "hello");
  auto sidecar = env.start_sidecar();

  auto r = env.client.request_until_answered("myfunction.lambda", "");
  INFO(sidecar->log());
  REQUIRE(r.status == NATS_OK);
  CHECK(r.data == "hello");
  CHECK(r.header("Natsfn-Status") == "200");
  CHECK(r.header("Natsfn-Request-Id").size() == 36);
  CHECK(!r.header("Natsfn-Duration-Us").empty());

  // Every function also answers on its canonical subject.
  auto c = env.client.request("natsfn.invoke.hello", "");
  REQUIRE(c.status == NATS_OK);
  CHECK(c.data == "hello");
  CHECK(c.header("Natsfn-Cold-Start").empty());  // the worker is warm by now

  // Binary-safe echo, 1 byte to 512 KiB.
  env.deploy(example("echo-cpp"));
  std::string big(512 * 1024, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  for (const std::string& payload : {std::string("x"), std::string("\0\xff\x01", 3), big}) {
    auto e = env.client.request_until_answered("natsfn.invoke.echo", payload);
    REQUIRE(e.status == NATS_OK);
    CHECK(e.data == payload);
  }
  CHECK(sidecar->process().stop() == 0);
}

TEST_CASE("warm pool: standby workers exist before the first request", "[integration]") {
  SidecarEnv env;
  env.deploy(example("hello-cpp"), {"--warm", "2"});
  env.bind("myfunction.lambda", "hello");
  auto sidecar = env.start_sidecar();
  REQUIRE(wait_until([&] { return sidecar->workers().size() == 2; }));
  // Processes exist; standby means they have also loaded the function and said ready.
  REQUIRE(wait_until([&] {
    auto log = sidecar->log();
    size_t n = 0;
    for (auto at = log.find("ready (pid"); at != std::string::npos; at = log.find("ready (pid", at + 1)) ++n;
    return n == 2;
  }));
  auto before = sidecar->workers();
  auto r = env.client.request("myfunction.lambda", "");
  REQUIRE(r.status == NATS_OK);
  CHECK(r.data == "hello");
  CHECK(r.header("Natsfn-Cold-Start").empty());
  CHECK(sidecar->workers() == before);  // served by a standby, none started for it
}

TEST_CASE("without a warm worker the first reply is marked cold", "[integration]") {
  SidecarEnv env;
  env.deploy(example("hello-cpp"));
  auto sidecar = env.start_sidecar();
  auto r = env.client.request_until_answered("natsfn.invoke.hello", "");
  REQUIRE(r.status == NATS_OK);
  CHECK(r.header("Natsfn-Cold-Start") == "1");
}

TEST_CASE("faults: timeout, crash, init failure and handler errors each get their reply", "[integration]") {
  SidecarEnv env;
  env.deploy(test_worker("sleep"), {"--timeout", "500ms"});
  env.deploy(test_worker("crash"));
  env.deploy(test_worker("init-error"));
  env.deploy(test_worker("throw"));
  env.deploy(example("hello-cpp"));
  auto sidecar = env.start_sidecar();
  REQUIRE(env.client.request_until_answered("natsfn.invoke.hello", "").data == "hello");

  auto t = env.client.request("natsfn.invoke.test-sleep", "zz", 10000);
  REQUIRE(t.status == NATS_OK);
  CHECK(t.header("Nats-Service-Error-Code") == "504");
  CHECK(t.data.find("Task timed out after 0.50 seconds") != std::string::npos);
  // The killed worker is replaced and times out again the same way: the sidecar is unharmed.
  auto t2 = env.client.request("natsfn.invoke.test-sleep", "zz", 10000);
  CHECK(t2.header("Nats-Service-Error-Code") == "504");

  auto c = env.client.request("natsfn.invoke.test-crash", "boom", 10000);
  REQUIRE(c.status == NATS_OK);
  CHECK(c.header("Nats-Service-Error-Code") == "502");
  CHECK(c.data.find("errorMessage") != std::string::npos);

  auto i = env.client.request("natsfn.invoke.test-init-error", "", 10000);
  REQUIRE(i.status == NATS_OK);
  CHECK(i.header("Nats-Service-Error-Code") == "502");
  CHECK(i.data.find("Runtime.InitError") != std::string::npos);

  auto h = env.client.request("natsfn.invoke.test-throw", "", 10000);
  REQUIRE(h.status == NATS_OK);
  CHECK(h.header("Nats-Service-Error-Code") == "500");
  CHECK(h.data.find("\"errorType\"") != std::string::npos);
  CHECK(h.data.find("\"stackTrace\"") != std::string::npos);

  // Still serving after all of that.
  auto ok = env.client.request("natsfn.invoke.hello", "");
  CHECK(ok.data == "hello");
  CHECK(sidecar->process().running());
}

namespace {
// Gone, or a zombie nobody has reaped yet (whoever inherited it may not reap promptly).
bool process_gone(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return true;
  char state = stat[paren + 2];
  return state == 'Z' || state == 'X';
}
}  // namespace

TEST_CASE("a SIGKILLed sidecar takes its workers with it, even one stuck in a handler", "[integration]") {
  SidecarEnv env;
  env.deploy(test_worker("sleep"), {"--timeout", "60s", "--warm", "2"});
  auto sidecar = env.start_sidecar();
  REQUIRE(wait_until([&] { return sidecar->workers().size() == 2; }));
  natsConnection_PublishRequestString(env.client.nc(), "natsfn.invoke.test-sleep", "_INBOX.unused", "x");
  natsConnection_Flush(env.client.nc());
  // The worker has entered the handler once its stderr line reaches the sidecar's log.
  REQUIRE(wait_until([&] { return sidecar->log().find("sleeping forever") != std::string::npos; }));
  auto workers = sidecar->workers();
  REQUIRE(workers.size() == 2);

  sidecar->process().signal(SIGKILL);
  sidecar->process().wait(std::chrono::seconds(5));
  // Both the idle standby and the one that would otherwise pause() forever in its own session.
  for (pid_t w : workers) {
    INFO("worker " << w);
    CHECK(wait_until([&] { return process_gone(w); }, std::chrono::seconds(5)));
  }
}

TEST_CASE("over capacity: past max_concurrency and max_queue requests get 429", "[integration]") {
  SidecarEnv env;
  env.deploy(test_worker("sleep"),
             {"--timeout", "3s", "--concurrency", "1", "--queue", "1", "--warm", "1"});
  auto sidecar = env.start_sidecar();
  REQUIRE(wait_until([&] { return sidecar->workers().size() == 1; }));
  // Three requests in flight at once: one runs, one waits, the third is refused.
  auto [prefix, sub] = env.client.inbox();
  for (int k = 0; k < 3; ++k) {
    std::string reply = prefix + std::to_string(k);
    natsConnection_PublishRequestString(env.client.nc(), "natsfn.invoke.test-sleep", reply.c_str(), "x");
    natsConnection_Flush(env.client.nc());
  }
  natsMsg* first = nullptr;
  REQUIRE(natsSubscription_NextMsg(&first, sub.get(), 2000) == NATS_OK);
  MsgPtr m(first);
  const char* code = nullptr;
  natsMsgHeader_Get(first, "Nats-Service-Error-Code", &code);
  REQUIRE(code != nullptr);
  CHECK(std::string(code) == "429");
  CHECK(std::string(natsMsg_GetSubject(first)) == prefix + "2");
}

TEST_CASE("messages without a reply subject run as events", "[integration]") {
  SidecarEnv env;
  TempDir pkg;
  write_package(pkg.path,
                {{"natsfn.json", R"({"name":"touch","runtime":"exec","mode":"oneshot","handler":"run.sh"})"},
                 {"run.sh", "#!/bin/sh\ncat > \"$MARK\"\necho done\n"}},
                {"run.sh"});
  std::string mark = env.dir.path + "/event-ran";
  env.deploy(pkg.path, {"--env", "MARK=" + mark});
  auto sidecar = env.start_sidecar();
  REQUIRE(env.client.request_until_answered("natsfn.invoke.touch", "warmup").data == "done\n");
  natsConnection_PublishString(env.client.nc(), "natsfn.invoke.touch", "fire-and-forget");
  natsConnection_Flush(env.client.nc());
  CHECK(wait_until([&] {
    std::ifstream in(mark);
    std::string s;
    std::getline(in, s);
    return s == "fire-and-forget";
  }));
}

TEST_CASE("oneshot exec: event on stdin, result on stdout, non-zero exit is an error", "[integration]") {
  SidecarEnv env;
  env.deploy(example("shell-oneshot"));
  TempDir pkg;
  write_package(pkg.path,
                {{"natsfn.json", R"({"name":"fails","runtime":"exec","mode":"oneshot","handler":"f.sh"})"},
                 {"f.sh", "#!/bin/sh\necho 'bad input' >&2\nexit 3\n"}},
                {"f.sh"});
  env.deploy(pkg.path);
  auto sidecar = env.start_sidecar();
  auto r = env.client.request_until_answered("natsfn.invoke.upper", "hello nats");
  REQUIRE(r.status == NATS_OK);
  CHECK(r.data == "HELLO NATS");
  auto f = env.client.request("natsfn.invoke.fails", "x");
  REQUIRE(f.status == NATS_OK);
  CHECK(f.header("Nats-Service-Error-Code") == "500");
  CHECK(f.data.find("bad input") != std::string::npos);
}
