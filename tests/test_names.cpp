#include <catch2/catch.hpp>

#include "core/names.hpp"

using namespace natsfn;

TEST_CASE("binding subjects: valid ones pass, dangerous ones are refused with a reason", "[names]") {
  for (auto s : {"myfunction.lambda", "a", "orders.*.created", "devices.>", "x-y_z.1"})
    CHECK(validate_binding_subject(s).ok());
  struct Case {
    const char* subject;
    const char* why;
  };
  for (auto c : std::initializer_list<Case>{{">", "bare"},
                                            {"$SYS.x", "system"},
                                            {"$JS.API.INFO", "system"},
                                            {"_INBOX.abc", "_INBOX"},
                                            {"", "empty"},
                                            {"a..b", "empty token"},
                                            {"a.", "empty token"},
                                            {"a b", "whitespace"},
                                            {"a.>.b", "last token"},
                                            {"a.b*", "whole token"},
                                            {"natsfn.invoke.x", "reserved"}}) {
    auto s = validate_binding_subject(c.subject);
    INFO(c.subject);
    REQUIRE_FALSE(s.ok());
    CHECK(s.message().find(c.why) != std::string::npos);
    CHECK(s.code() == Errc::invalid_argument);
  }
}

TEST_CASE("function names are subject tokens", "[names]") {
  CHECK(validate_function_name("my-function_1").ok());
  CHECK_FALSE(validate_function_name("").ok());
  CHECK_FALSE(validate_function_name("a.b").ok());
  CHECK_FALSE(validate_function_name("a*").ok());
  CHECK_FALSE(validate_function_name(std::string(65, 'a')).ok());
}

TEST_CASE("runtime aliases map to how they run", "[names]") {
  CHECK(canonical_runtime("node") == "node");
  CHECK(canonical_runtime("nodejs") == "node");
  CHECK(canonical_runtime("nodejs20.x") == "node");
  CHECK(canonical_runtime("python3.11") == "python");
  CHECK(canonical_runtime("python") == "python");
  CHECK(canonical_runtime("provided") == "exec");
  CHECK(canonical_runtime("provided.al2") == "exec");
  CHECK(canonical_runtime("exec") == "exec");
  CHECK(canonical_runtime("java11").empty());
  CHECK(canonical_runtime("nodejs.x").empty());
}
