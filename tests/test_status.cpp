#include <catch2/catch.hpp>

#include "core/status.hpp"

using namespace natsfn;

TEST_CASE("every error code maps to its reply status and Lambda type", "[status]") {
  CHECK(Status(Errc::timeout, "x").reply_status() == 504);
  CHECK(Status(Errc::over_capacity, "x").reply_status() == 429);
  CHECK(Status(Errc::worker_crashed, "x").reply_status() == 502);
  CHECK(Status(Errc::not_found, "x").reply_status() == 404);
  CHECK(std::string(Status(Errc::init_failed, "x").type()) == "Runtime.InitError");
  CHECK(Status().ok());
  CHECK(Status(Errc::io, "read").with_context("package").message() == "package: read");
}
