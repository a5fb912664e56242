// The sidecar as part of a system: live convergence on the KV catalogue, several sidecars in one
// queue group, nats-server restarts, SIGTERM with work in flight, garbage in KV.
#include <signal.h>

#include <map>

#include "core/catalogue.hpp"
#include "tests/support/sidecar_env.hpp"

using namespace natsfn;
using namespace natsfn::test;

namespace {

// A oneshot shell function that sleeps, then echoes: slow enough to be caught in flight.
std::string slow_echo_package(const std::string& dir) {
  write_package(dir,
                {{"natsfn.json",
                  R"({"name":"slow","runtime":"exec","mode":"oneshot","handler":"slow.sh","timeout":"10s"})"},
                 {"slow.sh", "#!/bin/sh\nsleep 0.4\ncat\n"}},
                {"slow.sh"});
  return dir;
}

// Publishes n requests ("<label>-<i>", replying to "<inbox>.<i>") and flushes them, so the server
// has routed every one before whatever the test does next.
Requester::Inbox publish_requests(SidecarEnv& env, const std::string& subject,
                                  const std::string& label, int n) {
  auto inbox = env.client.inbox();
  for (int i = 0; i < n; ++i) {
    std::string payload = label + "-" + std::to_string(i);
    natsConnection_PublishRequest(env.client.nc(), subject.c_str(),
                                  (inbox.prefix + std::to_string(i)).c_str(), payload.data(),
                                  static_cast<int>(payload.size()));
  }
  REQUIRE(natsConnection_Flush(env.client.nc()) == NATS_OK);
  return inbox;
}

// Waits for the n replies; checks each carries its own request's payload.
void expect_replies(Requester::Inbox& inbox, const std::string& label, int n) {
  std::map<std::string, std::string> replies;
  for (int i = 0; i < n; ++i) {
    natsMsg* m = nullptr;
    if (natsSubscription_NextMsg(&m, inbox.sub.get(), 15000) != NATS_OK) break;
    MsgPtr owned(m);
    replies[natsMsg_GetSubject(m)] = std::string(natsMsg_GetData(m), natsMsg_GetDataLength(m));
  }
  REQUIRE(replies.size() == static_cast<size_t>(n));
  for (int i = 0; i < n; ++i)
    CHECK(replies[inbox.prefix + std::to_string(i)] == label + "-" + std::to_string(i));
}

}  // namespace

TEST_CASE("bindings converge live: bind answers within a second, unbind stops answering", "[integration]") {
  SidecarEnv env;
  env.deploy(example("hello-cpp"));
  auto sidecar = env.start_sidecar();
  REQUIRE(env.client.request_until_answered("natsfn.invoke.hello", "").data == "hello");

  auto bound_at = std::chrono::steady_clock::now();
  env.bind("late.binding", "hello");
  bool answered = wait_until([&] {
    return env.client.request("late.binding", "", 200).status == NATS_OK;
  }, std::chrono::milliseconds(1000), std::chrono::milliseconds(20));
  INFO(sidecar->log());
  CHECK(answered);
  CHECK(std::chrono::steady_clock::now() - bound_at < std::chrono::seconds(2));

  env.cli({"unbind", "-s", "late.binding"});
  CHECK(wait_until([&] {
    return env.client.request("late.binding", "", 200).status == NATS_NO_RESPONDERS;
  }, std::chrono::seconds(3)));
  CHECK(env.client.request("natsfn.invoke.hello", "").data == "hello");
}

TEST_CASE("unbind drains: requests already delivered to the subject are still answered", "[integration]") {
  SidecarEnv env;
  TempDir pkg;
  env.deploy(slow_echo_package(pkg.path), {"--concurrency", "2", "--queue", "20"});
  auto sidecar = env.start_sidecar();
  env.bind("drain.me", "slow");
  REQUIRE(env.client.request_until_answered("drain.me", "warm").data == "warm");

  // Six requests the server has routed before the unbind: two run, four wait in the pool queue
  // (or still in the subscription) while the subscription drains.
  auto inbox = publish_requests(env, "drain.me", "in-flight", 6);
  env.cli({"unbind", "-s", "drain.me"});
  INFO(sidecar->log());
  expect_replies(inbox, "in-flight", 6);
  // And then the subject is gone.
  CHECK(wait_until([&] {
    return env.client.request("drain.me", "", 200).status == NATS_NO_RESPONDERS;
  }, std::chrono::seconds(3)));
}

TEST_CASE("fn create over an existing function recycles its workers", "[integration]") {
  SidecarEnv env;
  env.deploy(example("hello-cpp"), {"--warm", "1"});
  auto sidecar = env.start_sidecar();
  REQUIRE(env.client.request_until_answered("natsfn.invoke.hello", "").data == "hello");
  REQUIRE(wait_until([&] { return sidecar->workers().size() == 1; }));
  pid_t old_worker = sidecar->workers().at(0);

  // Same function name, now running the echo binary from a new package.
  env.cli({"package", "push", example("echo-cpp"), "--name", "echo-pkg"});
  env.cli({"fn", "create", "hello", "--package", "echo-pkg", "--handler", "echo"});
  CHECK(wait_until([&] { return env.client.request("natsfn.invoke.hello", "ping").data == "ping"; }));
  CHECK(wait_until([&] {
    auto w = sidecar->workers();
    return std::find(w.begin(), w.end(), old_worker) == w.end();
  }));
}

TEST_CASE("two sidecars share the load; stopping one leaves the other serving", "[integration]") {
  SidecarEnv env;
  env.deploy(example("echo-cpp"), {"--warm", "1"});
  auto a = env.start_sidecar();
  auto b = env.start_sidecar();
  REQUIRE(wait_until([&] { return a->workers().size() == 1 && b->workers().size() == 1; }));

  std::map<std::string, int> by_sidecar;
  for (int i = 0; i < 400; ++i) {
    std::string payload = "req-" + std::to_string(i);
    auto r = env.client.request("natsfn.invoke.echo", payload);
    REQUIRE(r.status == NATS_OK);
    REQUIRE(r.data == payload);
    by_sidecar[r.header("Natsfn-Sidecar")]++;
  }
  CHECK(by_sidecar.size() == 2);
  for (auto& [id, n] : by_sidecar) CHECK(n > 20);

  REQUIRE(a->process().stop() == 0);
  for (int i = 0; i < 50; ++i) {
    auto r = env.client.request("natsfn.invoke.echo", "after");
    REQUIRE(r.status == NATS_OK);
    CHECK(r.data == "after");
  }
}

TEST_CASE("the sidecar reconnects after a nats-server restart and keeps its bindings", "[integration]") {
  SidecarEnv env;
  env.deploy(example("hello-cpp"));
  env.bind("myfunction.lambda", "hello");
  auto sidecar = env.start_sidecar();
  REQUIRE(env.client.request_until_answered("myfunction.lambda", "").data == "hello");

  env.server.stop();
  env.server.start();
  Requester fresh(env.server.url());
  auto r = fresh.request_until_answered("myfunction.lambda", "", std::chrono::seconds(20));
  INFO(sidecar->log());
  REQUIRE(r.status == NATS_OK);
  CHECK(r.data == "hello");
  CHECK(sidecar->process().running());
}

TEST_CASE("SIGTERM drains: every request in flight gets its reply, then exit 0", "[integration]") {
  SidecarEnv env;
  TempDir pkg;
  env.deploy(slow_echo_package(pkg.path), {"--concurrency", "4", "--queue", "20"});
  auto sidecar = env.start_sidecar();
  REQUIRE(env.client.request_until_answered("natsfn.invoke.slow", "warm").data == "warm");

  // Eight requests published and flushed: the server has them before the sidecar's drain.
  auto inbox = publish_requests(env, "natsfn.invoke.slow", "job", 8);
  sidecar->process().signal(SIGTERM);
  expect_replies(inbox, "job", 8);
  CHECK(sidecar->process().wait(std::chrono::seconds(15)) == 0);
}

TEST_CASE("at start-up a bound subject answers only once its function is loaded", "[integration]") {
  // The two buckets load on separate threads. With the function's entry at the end of a long
  // snapshot and its binding alone in the other bucket, the binding arrives first: its subject
  // must not answer "function does not exist" in the meantime (another sidecar could serve it).
  SidecarEnv env;
  env.deploy(example("hello-cpp"));
  {
    auto cat = Catalogue::open(env.client.nc(), {.create = true});
    REQUIRE(cat.ok());
    auto hello = cat->get_function("hello");
    REQUIRE(hello.ok());
    for (int i = 0; i < 400; ++i) {
      FunctionConfig f = hello.value();
      f.name = "filler-" + std::to_string(i);
      REQUIRE(cat->put_function(f).ok());
    }
    REQUIRE(cat->put_function(hello.value()).ok());  // now last in the functions snapshot
    REQUIRE(cat->put_binding(Binding::nats("myfunction.lambda", "hello")).ok());
  }
  auto sidecar = env.start_sidecar();
  Reply first = env.client.request_until_answered("myfunction.lambda", "", std::chrono::seconds(30));
  INFO(sidecar->log());
  REQUIRE(first.status == NATS_OK);
  CHECK(first.header("Nats-Service-Error-Code").empty());
  CHECK(first.data == "hello");
}

TEST_CASE("garbage in the catalogue is logged with its key and skipped", "[integration]") {
  SidecarEnv env;
  env.deploy(example("hello-cpp"));
  {
    auto cat = Catalogue::open(env.client.nc(), {.create = true});
    REQUIRE(cat.ok());
    uint64_t rev = 0;
    REQUIRE(kvStore_PutString(&rev, cat->functions(), "broken", "{not json") == NATS_OK);
    REQUIRE(kvStore_PutString(&rev, cat->bindings(), "nats.bad", R"({"type":"nats"})") == NATS_OK);
  }
  auto sidecar = env.start_sidecar();
  REQUIRE(env.client.request_until_answered("natsfn.invoke.hello", "").data == "hello");
  auto log = sidecar->log();
  CHECK(log.find("natsfn_functions key 'broken'") != std::string::npos);
  CHECK(log.find("natsfn_bindings key 'nats.bad'") != std::string::npos);
  // And a garbage update arriving live does not stop it either.
  {
    auto cat = Catalogue::open(env.client.nc());
    uint64_t rev = 0;
    REQUIRE(kvStore_PutString(&rev, cat->functions(), "broken2", "[]") == NATS_OK);
  }
  CHECK(wait_until([&] { return sidecar->log().find("'broken2'") != std::string::npos; }));
  CHECK(env.client.request("natsfn.invoke.hello", "").data == "hello");
}
