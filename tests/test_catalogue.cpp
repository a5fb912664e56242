#include <catch2/catch.hpp>

#include "core/catalogue.hpp"
#include "core/connection.hpp"
#include "tests/support/nats_server.hpp"

using namespace natsfn;

namespace {

FunctionConfig sample(const std::string& name) {
  FunctionConfig f;
  f.name = name;
  f.package = name + "-pkg";
  f.digest = "SHA-256=abc";
  f.runtime = "node";
  f.handler = "index.myHandler";
  f.env = {{"GREETING", "hello"}};
  return f;
}

}  // namespace

TEST_CASE("function configs validate every field with one message each", "[catalogue]") {
  CHECK(sample("ok").validate().ok());
  FunctionConfig f = sample("bad.name");
  f.runtime = "cobol";
  f.handler = "../escape";
  f.timeout_ms = 0;
  f.memory_mb = 1;
  f.max_concurrency = 0;
  f.digest = "";
  f.env["1BAD"] = "x";
  auto p = f.problems();
  CHECK(p.size() == 8);
  auto s = f.validate();
  CHECK(s.code() == Errc::invalid_argument);
  CHECK(s.message().find("unknown runtime 'cobol'") != std::string::npos);
  CHECK(s.message().find("digest must be pinned") != std::string::npos);

  FunctionConfig h = sample("h");
  h.handler = "index";
  CHECK(h.validate().message().find("file.function") != std::string::npos);
  h.runtime = "exec";
  CHECK(h.validate().ok());
}

TEST_CASE("function configs round trip through JSON and bad JSON names its key", "[catalogue]") {
  auto f = sample("roundtrip");
  auto back = FunctionConfig::from_json("roundtrip", f.to_json());
  REQUIRE(back.ok());
  CHECK(*back == f);

  auto garbage = FunctionConfig::from_json("broken", "{not json");
  REQUIRE_FALSE(garbage.ok());
  CHECK(garbage.status().code() == Errc::corrupt);
  CHECK(garbage.status().message().find("'broken'") != std::string::npos);
  CHECK_FALSE(FunctionConfig::from_json("k", R"({"timeout_ms":"soon"})").ok());
  CHECK_FALSE(FunctionConfig::from_json("k", "[1,2]").ok());
}

TEST_CASE("bindings derive their key from what they bind", "[catalogue]") {
  auto b = Binding::nats("myfunction.lambda", "myfunction");
  CHECK(b.key() == nats_binding_key("myfunction.lambda"));
  auto back = Binding::from_json(b.key(), b.to_json());
  REQUIRE(back.ok());
  CHECK(*back == b);
  auto h = Binding::http("/things/{id}", {"GET"}, "things");
  CHECK(h.validate().ok());
  CHECK(Binding::from_json(h.key(), h.to_json()).value() == h);
  CHECK_FALSE(Binding::nats("_INBOX.x", "f").validate().ok());
  CHECK_FALSE(Binding::from_json("k", R"({"type":"nats","subject":">","function":"f"})").ok());
}

TEST_CASE("the catalogue lives in KV and survives malformed entries", "[integration]") {
  test::NatsServer server;
  ConnectionConfig cc;
  cc.servers = server.url();
  auto conn = connect(cc);
  REQUIRE(conn.ok());

  auto missing = Catalogue::open(conn->get());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message().find("natsfn_functions does not exist") != std::string::npos);

  auto cat = Catalogue::open(conn->get(), {.create = true});
  REQUIRE(cat.ok());
  REQUIRE(cat->put_function(sample("one")).ok());
  REQUIRE(cat->put_function(sample("two")).ok());
  auto invalid = sample("three");
  invalid.runtime = "cobol";
  CHECK(cat->put_function(invalid).code() == Errc::invalid_argument);

  // Someone else writes garbage straight into the bucket.
  uint64_t rev = 0;
  REQUIRE(kvStore_PutString(&rev, cat->functions(), "garbage", "{{{not json") == NATS_OK);

  auto list = cat->list_functions();
  REQUIRE(list.ok());
  CHECK(list->items.size() == 2);
  REQUIRE(list->problems.size() == 1);
  CHECK(list->problems[0].message().find("'garbage'") != std::string::npos);

  auto got = cat->get_function("one");
  REQUIRE(got.ok());
  CHECK(got->env.at("GREETING") == "hello");
  CHECK(cat->get_function("nope").status().code() == Errc::not_found);
  REQUIRE(cat->delete_function("one").ok());
  CHECK(cat->delete_function("one").code() == Errc::not_found);

  auto b = Binding::nats("myfunction.lambda", "two");
  REQUIRE(cat->put_binding(b).ok());
  CHECK(cat->put_binding(Binding::nats("$SYS.>", "two")).code() == Errc::invalid_argument);
  auto bl = cat->list_bindings();
  REQUIRE(bl.ok());
  REQUIRE(bl->items.size() == 1);
  CHECK(bl->items[0] == b);
  REQUIRE(cat->delete_binding(b.key()).ok());
  CHECK(cat->list_bindings()->items.empty());
}
