// Worker pool and package cache behaviour seen from outside: idle TTL, shared cold-start fetches,
// cache reuse across restarts.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>

#include "tests/support/sidecar_env.hpp"

using namespace natsfn;
using namespace natsfn::test;

namespace {

size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("idle workers above min_warm leave after the idle TTL", "[integration]") {
  SidecarEnv env;
  env.deploy(example("echo-cpp"));
  auto sidecar = env.start_sidecar({"--idle-ttl-ms", "300"});
  REQUIRE(env.client.request_until_answered("natsfn.invoke.echo", "x").data == "x");
  CHECK(sidecar->workers().size() == 1);
  CHECK(wait_until([&] { return sidecar->workers().empty(); }, std::chrono::seconds(5)));
  // The next request cold-starts a fresh one.
  auto r = env.client.request("natsfn.invoke.echo", "y");
  CHECK(r.data == "y");
  CHECK(r.header("Natsfn-Cold-Start") == "1");
}

TEST_CASE("concurrent cold starts of one package fetch it once", "[integration]") {
  SidecarEnv env;
  env.deploy(example("echo-cpp"), {"--concurrency", "8"});
  auto sidecar = env.start_sidecar();
  // Make sure the sidecar has loaded the function before the burst.
  REQUIRE(wait_until([&] { return sidecar->log().find("[echo] function loaded") != std::string::npos; }));
  std::vector<std::future<Reply>> replies;
  for (int i = 0; i < 8; ++i) {
    replies.push_back(std::async(std::launch::async, [&env, i] {
      Requester own(env.server.url());
      return own.request("natsfn.invoke.echo", "c" + std::to_string(i), 10000);
    }));
  }
  for (int i = 0; i < 8; ++i) CHECK(replies[i].get().data == "c" + std::to_string(i));
  CHECK(count(sidecar->log(), "fetched and extracted") == 1);
}

TEST_CASE("the package cache survives a restart only when its digest marker matches", "[integration]") {
  SidecarEnv env;
  env.deploy(example("hello-cpp"));
  std::string cache = env.dir.path + "/shared-cache";
  {
    auto first = env.start_sidecar({}, cache);
    REQUIRE(env.client.request_until_answered("natsfn.invoke.hello", "").data == "hello");
    CHECK(count(first->log(), "fetched and extracted") == 1);
    REQUIRE(first->process().stop() == 0);
  }
  {
    auto second = env.start_sidecar({}, cache);
    REQUIRE(env.client.request_until_answered("natsfn.invoke.hello", "").data == "hello");
    CHECK(count(second->log(), "fetched and extracted") == 0);  // reused from disk
    REQUIRE(second->process().stop() == 0);
  }
  // A marker that does not match (a tampered or half-written cache) forces a fresh fetch.
  for (auto& entry : std::filesystem::directory_iterator(cache))
    if (entry.path().extension() == ".ok") std::ofstream(entry.path()) << "SHA-256=forged\n";
  auto third = env.start_sidecar({}, cache);
  REQUIRE(env.client.request_until_answered("natsfn.invoke.hello", "").data == "hello");
  CHECK(count(third->log(), "fetched and extracted") == 1);
}

TEST_CASE("a package whose bytes changed behind the function's back is refused", "[integration]") {
  SidecarEnv env;
  env.deploy(example("hello-cpp"));
  // Re-push different bytes under the same package name without re-pinning the function.
  env.cli({"package", "push", example("echo-cpp"), "--name", "hello"});
  auto sidecar = env.start_sidecar();
  auto r = env.client.request_until_answered("natsfn.invoke.hello", "");
  REQUIRE(r.status == NATS_OK);
  CHECK(r.header("Nats-Service-Error-Code") == "500");
  CHECK(r.data.find("pinned") != std::string::npos);
}

TEST_CASE("workers can run as an unprivileged user", "[integration]") {
  if (geteuid() != 0) return;  // only root may switch users; CI runs as root
  SidecarEnv env;
  TempDir pkg;
  write_package(pkg.path,
                {{"natsfn.json", R"({"name":"whoami","runtime":"exec","mode":"oneshot","handler":"id.sh"})"},
                 {"id.sh", "#!/bin/sh\nid -u\n"}},
                {"id.sh"});
  env.deploy(pkg.path);
  // The worker must be able to reach its package in the cache.
  std::filesystem::permissions(env.dir.path, std::filesystem::perms::owner_all |
                                                 std::filesystem::perms::group_read |
                                                 std::filesystem::perms::group_exec |
                                                 std::filesystem::perms::others_read |
                                                 std::filesystem::perms::others_exec);
  auto sidecar = env.start_sidecar({"--worker-uid", "65534", "--worker-gid", "65534"});
  auto r = env.client.request_until_answered("natsfn.invoke.whoami", "");
  INFO(sidecar->log());
  CHECK(r.data == "65534\n");
}

namespace {

// "Cpus_allowed_list" of a process, e.g. "0-1" or "1".
std::string cpus_allowed(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("Cpus_allowed_list:", 0) == 0) return line.substr(line.find_first_not_of(" \t", 18));
  return "";
}

// The sidecar's child running the executable named `name` (its argv[0] ends in "/name").
pid_t worker_running(Sidecar& sidecar, const std::string& name) {
  std::string tail = "/" + name;
  for (pid_t p : sidecar.workers()) {
    std::string cmd = read_file("/proc/" + std::to_string(p) + "/cmdline");
    std::string argv0 = cmd.substr(0, cmd.find('\0'));
    if (argv0.size() >= tail.size() && argv0.compare(argv0.size() - tail.size(), tail.size(), tail) == 0)
      return p;
  }
  return -1;
}

}  // namespace

TEST_CASE("a worker serving the only invocation in flight runs on the sidecar's CPU", "[integration]") {
  if (::sysconf(_SC_NPROCESSORS_ONLN) < 2) {
    WARN("one CPU: nothing to place");
    return;
  }
  SidecarEnv env;
  env.deploy(example("echo-cpp"), {"--warm", "1"});
  env.deploy(test_worker("sleep"), {"--warm", "1", "--timeout", "5s"});
  auto sidecar = env.start_sidecar();
  // A child is the launcher until it has exec'd the runtime: wait for the echo binary itself.
  pid_t echo = -1;
  REQUIRE(wait_until([&] { return sidecar->workers().size() == 2 && (echo = worker_running(*sidecar, "echo")) > 0; }));
  std::string all = cpus_allowed(sidecar->process().pid());
  CHECK(cpus_allowed(echo) == all);  // as spawned

  // Alone in flight: pinned to one CPU, a single number.
  REQUIRE(env.client.request("natsfn.invoke.echo", "x").data == "x");
  std::string alone = cpus_allowed(echo);
  CHECK(alone.find_first_of("-,") == std::string::npos);

  // With another invocation in flight (the sleep worker inside its handler) it gets the
  // sidecar's whole set back.
  natsConnection_PublishRequestString(env.client.nc(), "natsfn.invoke.test-sleep", "_INBOX.unused", "z");
  natsConnection_Flush(env.client.nc());
  REQUIRE(wait_until([&] { return sidecar->log().find("sleeping forever") != std::string::npos; }));
  REQUIRE(env.client.request("natsfn.invoke.echo", "y").data == "y");
  CHECK(cpus_allowed(echo) == all);

  // --no-colocate-workers leaves placement alone. (SIGKILL: no need to wait out the sleeper;
  // its workers go with it.)
  sidecar->process().signal(SIGKILL);
  sidecar->process().wait(std::chrono::seconds(5));
  auto plain = env.start_sidecar({"--no-colocate-workers"});
  pid_t echo2 = -1;
  REQUIRE(wait_until([&] { return plain->workers().size() == 2 && (echo2 = worker_running(*plain, "echo")) > 0; }));
  REQUIRE(env.client.request_until_answered("natsfn.invoke.echo", "w").data == "w");
  CHECK(cpus_allowed(echo2) == cpus_allowed(plain->process().pid()));
}
