// ADR-32 discovery ($SRV.PING|INFO|STATS) answered by real sidecars, read by nats.js v2's services
// client (a client we did not write) and checked field by field with nats.c.
#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "tests/support/sidecar_env.hpp"

using namespace natsfn;
using namespace natsfn::test;
using nlohmann::json;

namespace {

json discover_with_nats_js(const std::string& url) {
  std::string nats_js = source_path("tests/js/node_modules/nats/package.json");
  if (!std::filesystem::exists(nats_js)) {
    FAIL("nats.js is not installed for the interop tests; run: npm install --prefix " +
         source_path("tests/js"));
  }
  auto r = run_command({"/usr/bin/env", "node", source_path("tests/js/srv_discover.mjs"), url},
                       std::chrono::seconds(30));
  INFO("srv_discover.mjs: " << r.out << r.err);
  REQUIRE(r.code == 0);
  auto j = json::parse(r.out, nullptr, false);
  REQUIRE(j.is_object());
  return j;
}

const json* endpoint(const json& response, const std::string& name) {
  for (const auto& e : response["endpoints"])
    if (e["name"] == name) return &e;
  return nullptr;
}

}  // namespace

TEST_CASE("every sidecar answers $SRV discovery; nats.js lists them with per-function stats",
          "[integration][interop]") {
  SidecarEnv env;
  env.deploy(example("hello-cpp"));
  env.deploy(test_worker("throw"));
  env.bind("myfunction.lambda", "hello");
  auto a = env.start_sidecar();
  auto b = env.start_sidecar();
  REQUIRE(env.client.request_until_answered("natsfn.invoke.hello", "").data == "hello");
  for (int i = 0; i < 9; ++i) REQUIRE(env.client.request("myfunction.lambda", "").data == "hello");
  auto err = env.client.request("natsfn.invoke.test-throw", "", 10000);
  REQUIRE(err.header("Nats-Service-Error-Code") == "500");

  json seen = discover_with_nats_js(env.server.url());
  INFO(seen.dump(2));
  REQUIRE(seen["ping"].size() == 2);
  std::set<std::string> ids;
  for (const auto& p : seen["ping"]) {
    CHECK(p["type"] == "io.nats.micro.v1.ping_response");
    CHECK(p["name"] == "natsfn");
    CHECK(p["version"] == "0.1.0");
    ids.insert(p["id"].get<std::string>());
  }
  CHECK(ids.size() == 2);

  REQUIRE(seen["info"].size() == 2);
  for (const auto& info : seen["info"]) {
    CHECK(info["type"] == "io.nats.micro.v1.info_response");
    const json* hello = endpoint(info, "hello");
    REQUIRE(hello != nullptr);
    CHECK((*hello)["subject"] == "natsfn.invoke.hello");
    CHECK((*hello)["queue_group"] == "natsfn");
    CHECK((*hello)["metadata"]["bound_subjects"] == "myfunction.lambda");
    CHECK((*hello)["metadata"]["runtime"] == "exec");
    CHECK(endpoint(info, "test-throw") != nullptr);
  }

  // The queue group spread the requests; summed over both sidecars the counters are exact.
  REQUIRE(seen["stats"].size() == 2);
  uint64_t hello_requests = 0, throw_requests = 0, throw_errors = 0, processing = 0;
  for (const auto& st : seen["stats"]) {
    CHECK(st["type"] == "io.nats.micro.v1.stats_response");
    CHECK_FALSE(st["started"].get<std::string>().empty());
    const json* hello = endpoint(st, "hello");
    const json* thrower = endpoint(st, "test-throw");
    REQUIRE(hello != nullptr);
    REQUIRE(thrower != nullptr);
    hello_requests += (*hello)["num_requests"].get<uint64_t>();
    processing += (*hello)["processing_time"].get<uint64_t>();
    CHECK((*hello)["num_errors"] == 0);
    throw_requests += (*thrower)["num_requests"].get<uint64_t>();
    throw_errors += (*thrower)["num_errors"].get<uint64_t>();
    if ((*thrower)["num_errors"] == 1) CHECK_FALSE((*thrower)["last_error"].get<std::string>().empty());
  }
  CHECK(hello_requests == 10);
  CHECK(processing > 0);
  CHECK(throw_requests == 1);
  CHECK(throw_errors == 1);

  // $SRV.STATS.natsfn.<id> reaches exactly that instance.
  REQUIRE(seen["one"].size() == 1);
  CHECK(seen["one"][0]["id"] == seen["ping"][0]["id"]);

  // `natsfn status` lists them from the same answers.
  std::string out = env.cli({"status"});
  CHECK(out.find("sidecars   2") != std::string::npos);
  for (const auto& id : ids) CHECK(out.find(id) != std::string::npos);
  auto j = json::parse(env.cli({"--json", "status"}), nullptr, false);
  REQUIRE(j.is_object());
  CHECK(j["functions"] == 2);
  CHECK(j["bindings"] == 1);
  CHECK(j["sidecars"].size() == 2);
}

TEST_CASE("$SRV requests without a reply subject are ignored and the sidecar keeps serving",
          "[integration]") {
  SidecarEnv env;
  env.deploy(example("hello-cpp"));
  auto sidecar = env.start_sidecar();
  REQUIRE(env.client.request_until_answered("natsfn.invoke.hello", "").data == "hello");
  for (const char* subject : {"$SRV.PING", "$SRV.INFO.natsfn", "$SRV.STATS"})
    natsConnection_PublishString(env.client.nc(), subject, "garbage");
  natsConnection_Flush(env.client.nc());
  auto ping = env.client.request("$SRV.PING.natsfn", "");
  REQUIRE(ping.status == NATS_OK);
  auto j = json::parse(ping.data, nullptr, false);
  CHECK(j["type"] == "io.nats.micro.v1.ping_response");
  CHECK(env.client.request("natsfn.invoke.hello", "").data == "hello");
  CHECK(sidecar->process().running());
  sidecar.reset();
  CHECK(env.cli({"status"}).find("sidecars   0") != std::string::npos);
}

TEST_CASE("natsfn status survives odd answers on $SRV.STATS.natsfn", "[integration]") {
  SidecarEnv env;
  env.deploy(example("hello-cpp"));  // creates the buckets `status` reads
  // Not a sidecar: a responder on the bus answering with whatever it likes.
  auto on_stats = [](natsConnection* nc, natsSubscription*, natsMsg* msg, void*) {
    MsgPtr owned(msg);
    const char* reply = natsMsg_GetReply(msg);
    for (const char* answer :
         {"not json", R"({"type": []})", R"({"type": "io.nats.micro.v1.ping_response"})",
          R"({"type": "io.nats.micro.v1.stats_response", "id": 7, "endpoints": 5})",
          R"({"type": "io.nats.micro.v1.stats_response", "id": "odd", "version": "0.0.1",
              "endpoints": [1, "x", {"num_requests": "many", "num_errors": 2}, {"num_requests": 3}]})"})
      natsConnection_PublishString(nc, reply, answer);
  };
  natsSubscription* raw = nullptr;
  REQUIRE(natsConnection_Subscribe(&raw, env.client.nc(), "$SRV.STATS.natsfn", on_stats, nullptr) ==
          NATS_OK);
  SubscriptionPtr sub(raw);
  natsConnection_Flush(env.client.nc());

  std::string out = env.cli({"status"});
  CHECK(out.find("sidecars   2") != std::string::npos);  // the two stats responses
  CHECK(out.find("odd") != std::string::npos);
  auto j = json::parse(env.cli({"--json", "status"}), nullptr, false);
  REQUIRE(j.is_object());
  CHECK(j["sidecars"].size() == 2);
}
