// The examples deploy the way the README says and answer.
#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/support/sidecar_env.hpp"

using namespace natsfn;
using namespace natsfn::test;
using json = nlohmann::json;

TEST_CASE("examples deploy and answer through the CLI", "[integration][examples]") {
  SidecarEnv env;
  env.deploy(source_path("examples/hello-node"));
  env.bind("myfunction.lambda", "myfunction");
  env.deploy(source_path("examples/python-echo"));
  env.deploy(source_path("examples/node-callback"));
  env.cli({"fn", "create", "node-legacy", "--package", "node-callback", "--runtime", "nodejs20.x",
           "--handler", "index.legacy"});
  // The Lambda zip goes in unmodified: push the .zip, then create the function by hand.
  env.cli({"package", "push", example("lambda-zip.zip"), "--name", "lambda-zip"});
  env.cli({"fn", "create", "lambda-zip", "--package", "lambda-zip", "--runtime", "nodejs20.x",
           "--handler", "index.handler"});
  auto sidecar = env.start_sidecar();

  auto seed = env.client.request_until_answered("myfunction.lambda", "");
  INFO(sidecar->log());
  REQUIRE(seed.status == NATS_OK);
  CHECK(seed.data == "hello");

  auto invoke = natsfn_cli(env.server.url(), {"invoke", "myfunction"});
  CHECK(invoke.code == 0);
  CHECK(invoke.out == "hello");

  auto py = json::parse(env.client.request_until_answered("natsfn.invoke.python-echo", R"({"n":1})").data);
  CHECK(py["echo"]["n"] == 1);
  CHECK(py["function"] == "python-echo");

  auto cb = json::parse(env.client.request("natsfn.invoke.node-callback", R"({"name":"nats"})").data);
  CHECK(cb["greeting"] == "hello nats");
  CHECK(env.client.request("natsfn.invoke.node-legacy", "{}").data == "hello from context.succeed");
  auto fail = env.client.request("natsfn.invoke.node-legacy", R"({"fail":true})");
  CHECK(fail.header("Nats-Service-Error-Code") == "500");

  auto zip = json::parse(env.client.request("natsfn.invoke.lambda-zip", R"({"name":"zip"})").data);
  CHECK(zip["message"] == "hello zip from node_modules");

  // A failing invoke is one line on stderr and a non-zero exit.
  auto bad = natsfn_cli(env.server.url(), {"invoke", "node-legacy", R"({"fail":true})"});
  CHECK(bad.code != 0);
  CHECK(bad.err.find("asked to fail") != std::string::npos);
}

TEST_CASE("CLI: catalogue verbs end to end, and failures are one clear line", "[integration][cli]") {
  SidecarEnv env;
  env.deploy(source_path("examples/hello-node"));
  CHECK(env.cli({"fn", "ls"}).find("myfunction") != std::string::npos);
  CHECK(env.cli({"fn", "info", "myfunction"}).find("index.myHandler") != std::string::npos);
  CHECK(env.cli({"package", "ls"}).find("myfunction") != std::string::npos);
  CHECK(env.cli({"package", "info", "myfunction"}).find("SHA-256=") != std::string::npos);
  auto listed = json::parse(env.cli({"--json", "fn", "ls"}));
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["runtime"] == "nodejs20.x");
  env.bind("myfunction.lambda", "myfunction");
  CHECK(env.cli({"bindings"}).find("myfunction.lambda") != std::string::npos);
  env.cli({"package", "get", "myfunction", "-o", env.dir.path + "/copy.tgz"});
  CHECK(std::filesystem::file_size(env.dir.path + "/copy.tgz") > 0);

  struct Bad {
    std::vector<std::string> args;
    const char* says;
  };
  for (auto& b : std::vector<Bad>{
           {{"bind", "-s", "_INBOX.x", "-f", "myfunction"}, "_INBOX"},
           {{"bind", "-s", ">", "-f", "myfunction"}, "bare '>'"},
           {{"bind", "-s", "ok.subject", "-f", "nosuch"}, "unknown function 'nosuch'"},
           {{"fn", "info", "nosuch"}, "function 'nosuch' not found"},
           {{"package", "push", "/does/not/exist"}, "file not found"},
           {{"fn", "create", "x", "--package", "nosuch", "--runtime", "node", "--handler", "a.b"},
            "package 'nosuch' not found"},
           {{"fn", "create", "bad.name", "--package", "myfunction", "--runtime", "node", "--handler", "a.b"},
            "may only use letters"},
           {{"unbind", "-s", "never.bound"}, "no binding"}}) {
    auto r = natsfn_cli(env.server.url(), b.args);
    INFO(b.args[0] << " " << b.args[1] << ": " << r.err);
    CHECK(r.code != 0);
    CHECK(r.err.find(b.says) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }

  env.cli({"unbind", "-s", "myfunction.lambda"});
  CHECK(env.cli({"bindings"}).find("myfunction.lambda") == std::string::npos);
  env.cli({"fn", "rm", "myfunction"});
  env.cli({"package", "rm", "myfunction"});
  CHECK(env.cli({"fn", "ls"}).find("myfunction") == std::string::npos);
  CHECK(env.cli({"package", "ls"}).find("myfunction") == std::string::npos);

  // No server at all.
  auto down = natsfn_cli("nats://127.0.0.1:1", {"fn", "ls"});
  CHECK(down.code != 0);
  CHECK(down.err.find("cannot connect") != std::string::npos);
}
