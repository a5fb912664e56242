#include <catch2/catch.hpp>

#include "core/connection.hpp"
#include "tests/support/nats_server.hpp"

using namespace natsfn;

TEST_CASE("the fixture starts a real JetStream server on a free port", "[integration]") {
  test::NatsServer server;
  REQUIRE(server.port() > 0);
  ConnectionConfig config;
  config.servers = server.url();
  auto conn = connect(config);
  REQUIRE(conn.ok());
  natsMsg* reply = nullptr;
  // JetStream answers $JS.API.INFO only when enabled.
  natsStatus s = natsConnection_RequestString(&reply, conn->get(), "$JS.API.INFO", "", 2000);
  REQUIRE(s == NATS_OK);
  MsgPtr owned(reply);
  std::string body(natsMsg_GetData(reply), natsMsg_GetDataLength(reply));
  CHECK(body.find("\"memory\"") != std::string::npos);
}

TEST_CASE("connecting to a stopped server fails with one clear line", "[integration]") {
  test::NatsServer server;
  std::string url = server.url();
  server.stop();
  ConnectionConfig config;
  config.servers = url;
  config.connect_timeout_ms = 500;
  auto conn = connect(config);
  REQUIRE_FALSE(conn.ok());
  CHECK(conn.status().message().find(url) != std::string::npos);
}
