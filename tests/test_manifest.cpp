#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/manifest.hpp"

using namespace natsfn;
namespace fs = std::filesystem;

namespace {

std::string parse_error(const std::string& json) {
  auto r = parse_manifest(json, "natsfn.json");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Errc::invalid_argument);
  return r.status().message();
}

}  // namespace

TEST_CASE("a full manifest parses", "[manifest]") {
  auto m = parse_manifest(R"({ "name": "myfunction", "runtime": "node",
      "handler": "index.myHandler", "mode": "persistent", "timeout": "3s", "memory_mb": 128,
      "min_warm": 1, "max_concurrency": 10, "max_queue": 100, "env": { "GREETING": "hello" } })",
                          "natsfn.json");
  REQUIRE(m.ok());
  CHECK(m->name == "myfunction");
  CHECK(m->runtime == "node");
  CHECK(m->handler == "index.myHandler");
  CHECK(m->mode == "persistent");
  CHECK(m->timeout_ms == 3000);
  CHECK(m->memory_mb == 128);
  CHECK(m->min_warm == 1);
  CHECK(m->max_concurrency == 10);
  CHECK(m->max_queue == 100);
  CHECK(m->env == std::map<std::string, std::string>{{"GREETING", "hello"}});
}

TEST_CASE("only runtime and handler are required; the rest has defaults", "[manifest]") {
  auto m = parse_manifest(R"({"runtime":"exec","handler":"bootstrap"})", "natsfn.json");
  REQUIRE(m.ok());
  CHECK(m->name.empty());
  CHECK(m->mode == "persistent");
  CHECK_FALSE(m->timeout_ms.has_value());
  CHECK_FALSE(m->memory_mb.has_value());
  CHECK_FALSE(m->min_warm.has_value());
  CHECK_FALSE(m->max_concurrency.has_value());
  CHECK_FALSE(m->max_queue.has_value());
  CHECK(m->env.empty());

  auto numeric = parse_manifest(R"({"runtime":"exec","handler":"b","timeout":2500,
                                    "mode":"oneshot"})",
                                "natsfn.json");
  REQUIRE(numeric.ok());
  CHECK(numeric->timeout_ms == 2500);
  CHECK(numeric->mode == "oneshot");
  // Ranges are the catalogue's business, not the manifest's.
  CHECK(parse_manifest(R"({"runtime":"cobol","handler":"x","memory_mb":-5})", "m").ok());
}

TEST_CASE("manifest errors name the file and the field", "[manifest]") {
  CHECK(parse_error(R"({"runtime":"node","handler":"i.h","timout":"3s"})") ==
        "natsfn.json: unknown field 'timout'");
  CHECK(parse_error(R"({"runtime":"node","handler":"i.h","memory_mb":"128"})") ==
        "natsfn.json: 'memory_mb' must be an integer");
  CHECK(parse_error(R"({"runtime":"node","handler":"i.h","memory_mb":1.5})") ==
        "natsfn.json: 'memory_mb' must be an integer");
  CHECK(parse_error(R"({"runtime":"node","handler":"i.h","max_queue":18446744073709551615})") ==
        "natsfn.json: 'max_queue' must be an integer");
  CHECK(parse_error(R"({"runtime":"node","handler":"i.h","min_warm":null})") ==
        "natsfn.json: 'min_warm' must be an integer");
  CHECK(parse_error(R"({"runtime":"node","handler":5})") ==
        "natsfn.json: 'handler' must be a string");
  CHECK(parse_error(R"({"runtime":"node"})") == "natsfn.json: missing required field 'handler'");
  CHECK(parse_error(R"({"handler":"i.h"})") == "natsfn.json: missing required field 'runtime'");
  CHECK(parse_error(R"({"runtime":"","handler":"i.h"})") ==
        "natsfn.json: 'runtime' must not be empty");
  CHECK(parse_error(R"({"runtime":"node","handler":"i.h","env":{"A":1}})") ==
        "natsfn.json: 'env.A' must be a string");
  CHECK(parse_error(R"({"runtime":"node","handler":"i.h","env":[]})") ==
        "natsfn.json: 'env' must be an object of strings");
  CHECK(parse_error(R"({"runtime":"node","handler":"i.h","mode":"daemon"})") ==
        "natsfn.json: 'mode' must be 'persistent' or 'oneshot', not 'daemon'");
  CHECK(parse_error(R"({"runtime":"node","handler":"i.h","timeout":"3 seconds"})") ==
        "natsfn.json: invalid duration '3 seconds': use a number with ms, s or m");
  CHECK(parse_error(R"({"runtime":"node","handler":"i.h","timeout":true})") ==
        "natsfn.json: 'timeout' must be a duration string like \"3s\" or an integer of "
        "milliseconds");
  CHECK(parse_error(R"(["runtime"])") == "natsfn.json: must be a JSON object");

  std::string malformed = parse_error(R"({"runtime": "node", "handler": })");
  CHECK_THAT(malformed, Catch::StartsWith("natsfn.json: not valid JSON: parse error at line 1"));
  CHECK_THAT(malformed, Catch::Contains("unexpected '}'"));
  CHECK_THAT(parse_error(""), Catch::StartsWith("natsfn.json: not valid JSON: "));
}

TEST_CASE("load_manifest_from_dir defaults the name to the directory", "[manifest]") {
  std::string tmpl = (fs::temp_directory_path() / "natsfn-manifest-XXXXXX").string();
  REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
  fs::path root = tmpl;
  fs::create_directories(root / "hello");
  std::ofstream(root / "hello/natsfn.json") << R"({"runtime":"node","handler":"index.handler"})";
  fs::create_directories(root / "named");
  std::ofstream(root / "named/natsfn.json")
      << R"({"name":"other","runtime":"node","handler":"index.handler","timout":1})";
  fs::create_directories(root / "empty");

  auto m = load_manifest_from_dir((root / "hello").string());
  REQUIRE(m.ok());
  CHECK(m->name == "hello");
  auto trailing = load_manifest_from_dir((root / "hello").string() + "/");
  REQUIRE(trailing.ok());
  CHECK(trailing->name == "hello");

  auto bad = load_manifest_from_dir((root / "named").string());
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() ==
        (root / "named/natsfn.json").string() + ": unknown field 'timout'");

  auto missing = load_manifest_from_dir((root / "empty").string());
  CHECK(missing.status().code() == Errc::not_found);
  CHECK(missing.status().message() == "no natsfn.json in '" + (root / "empty").string() + "'");
  fs::remove_all(root);
}
