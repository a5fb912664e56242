// core/kv_follower against a real nats-server: the snapshot, `loaded` once, live puts and
// deletes, which keys count as live, and changes still flowing after a server restart.
#include <catch2/catch.hpp>

#include <algorithm>
#include <mutex>
#include <vector>

#include "core/catalogue.hpp"
#include "core/connection.hpp"
#include "core/kv_follower.hpp"
#include "tests/support/nats_server.hpp"

using namespace natsfn;

namespace {

// What the follower's thread reported, in order: "put k=v", "erase k", "loaded".
struct Recorder {
  std::mutex mu;
  std::vector<std::string> events;
  void add(std::string e) {
    std::lock_guard<std::mutex> lock(mu);
    events.push_back(std::move(e));
  }
  bool has(const std::string& e) {
    std::lock_guard<std::mutex> lock(mu);
    return std::find(events.begin(), events.end(), e) != events.end();
  }
  size_t count(const std::string& e) {
    std::lock_guard<std::mutex> lock(mu);
    return std::count(events.begin(), events.end(), e);
  }
};

}  // namespace

TEST_CASE("KvFollower reports the snapshot, then live changes, across a server restart",
          "[integration]") {
  test::NatsServer server;
  auto conn = test::connect_to(server);
  auto cat = Catalogue::open(conn.get(), {.create = true});
  REQUIRE(cat.ok());
  kvStore* kv = cat->bindings();
  uint64_t rev = 0;
  REQUIRE(kvStore_PutString(&rev, kv, "a", "1") == NATS_OK);
  REQUIRE(kvStore_PutString(&rev, kv, "skip", "ignored") == NATS_OK);

  Recorder rec;
  KvFollower follower(kv, "natsfn_bindings", KvFollowerCallbacks{
      [&](const std::string& key, std::string_view value) {
        rec.add("put " + key + "=" + std::string(value));
        return key != "skip";  // "skip" is not live: never reported as erased by a snapshot diff
      },
      [&](const std::string& key) { rec.add("erase " + key); },
      [&] { rec.add("loaded"); }});
  follower.start();
  REQUIRE(test::wait_until([&] { return rec.has("loaded"); }));
  CHECK(rec.has("put a=1"));
  CHECK(rec.has("put skip=ignored"));

  REQUIRE(kvStore_PutString(&rev, kv, "b", "2") == NATS_OK);
  REQUIRE(kvStore_Delete(kv, "a") == NATS_OK);
  REQUIRE(test::wait_until([&] { return rec.has("put b=2") && rec.has("erase a"); }));

  server.stop();
  server.start();
  // The watch comes back on its own (nats.c reconnects, or the follower re-watches).
  REQUIRE(test::wait_until(
      [&] {
        kvStore_PutString(&rev, kv, "c", "3");
        return rec.has("put c=3");
      },
      std::chrono::seconds(30), std::chrono::milliseconds(200)));
  REQUIRE(kvStore_Delete(kv, "b") == NATS_OK);
  REQUIRE(test::wait_until([&] { return rec.has("erase b"); }));
  follower.stop();
  CHECK(rec.count("loaded") == 1);
  CHECK(rec.count("erase skip") == 0);
}
