// Unmodified AWS Lambda Python handlers through the real sidecar and real python3 processes.
#include <nlohmann/json.hpp>

#include "tests/support/sidecar_env.hpp"

using namespace natsfn;
using namespace natsfn::test;
using json = nlohmann::json;

namespace {

const char* kHandlers = R"PY(
import logging, os, time
logger = logging.getLogger()

def handler(event, context):
    return {"got": event, "rid": context.aws_request_id, "fn": context.function_name,
            "mem": context.memory_limit_in_mb, "greeting": os.environ.get("GREETING")}

def echo(event, context):
    return event

def none(event, context):
    return None

def raw(event, context):
    return b"\x00\x01\xff"

def fail(event, context):
    raise ValueError("bad value")

def sleepy(event, context):
    time.sleep(60)

def leave(event, context):
    os._exit(3)

def hungry(event, context):
    blocks = []
    while True:
        blocks.append(bytearray(16 << 20))

def remaining(event, context):
    a = context.get_remaining_time_in_millis()
    time.sleep(0.05)
    return {"a": a, "b": context.get_remaining_time_in_millis()}

def chatty(event, context):
    print("printed for", context.aws_request_id)
    logger.warning("warned for %s", context.aws_request_id)
    return "chatted"
)PY";

struct PythonEnv : SidecarEnv {
  TempDir pkg;
  std::unique_ptr<Sidecar> sidecar;

  PythonEnv() {
    write_package(pkg.path, {{"app.py", kHandlers},
                             {"natsfn.json", R"({"name":"py","runtime":"python3.11",
                               "handler":"app.handler","env":{"GREETING":"hi"}})"}});
    deploy(pkg.path);
    for (auto fn : {"echo", "none", "raw", "fail", "leave", "remaining", "chatty"})
      cli({"fn", "create", std::string("py-") + fn, "--package", "py", "--runtime", "python",
           "--handler", std::string("app.") + fn});
    cli({"fn", "create", "py-sleepy", "--package", "py", "--runtime", "python", "--handler",
         "app.sleepy", "--timeout", "600ms"});
    cli({"fn", "create", "py-hungry", "--package", "py", "--runtime", "python", "--handler",
         "app.hungry", "--memory", "128"});
    sidecar = start_sidecar();
    REQUIRE(client.request_until_answered("natsfn.invoke.py-echo", "ready?").data == "ready?");
  }
  Reply call(const std::string& fn, const std::string& payload = "") {
    return client.request("natsfn.invoke." + fn, payload, 10000);
  }
};

}  // namespace

TEST_CASE("python: handlers, context, env and result mapping", "[integration][python]") {
  PythonEnv env;
  auto r = env.call("py", R"({"k":[1,2,3]})");
  REQUIRE(r.status == NATS_OK);
  INFO(r.data);
  auto j = json::parse(r.data);
  CHECK(j["got"]["k"][2] == 3);
  CHECK(j["rid"] == r.header("Natsfn-Request-Id"));
  CHECK(j["fn"] == "py");
  CHECK(j["mem"] == "128");
  CHECK(j["greeting"] == "hi");
  CHECK(env.call("py-echo", "not json").data == "not json");
  CHECK(env.call("py-none").data.empty());
  CHECK(env.call("py-raw").data == std::string("\0\1\xff", 3));
  auto rem = json::parse(env.call("py-remaining").data);
  CHECK(rem["a"].get<int64_t>() <= 3000);
  CHECK(rem["b"].get<int64_t>() < rem["a"].get<int64_t>());
}

TEST_CASE("python: exceptions, timeouts, exits and memory limits", "[integration][python]") {
  PythonEnv env;
  auto f = env.call("py-fail");
  REQUIRE(f.status == NATS_OK);
  CHECK(f.header("Nats-Service-Error-Code") == "500");
  auto j = json::parse(f.data);
  CHECK(j["errorType"] == "ValueError");
  CHECK(j["errorMessage"] == "bad value");
  CHECK(!j["stackTrace"].empty());

  auto t = env.call("py-sleepy");
  CHECK(t.header("Nats-Service-Error-Code") == "504");
  CHECK(t.data.find("Task timed out after 0.60 seconds") != std::string::npos);

  CHECK(env.call("py-leave").header("Nats-Service-Error-Code") == "502");

  auto m = env.call("py-hungry");
  REQUIRE(m.status == NATS_OK);
  CHECK(m.header("Nats-Service-Error-Code") == "500");
  CHECK(json::parse(m.data)["errorType"] == "MemoryError");

  CHECK(env.sidecar->process().running());
  CHECK(env.call("py-echo", "still here").data == "still here");
}

TEST_CASE("python: print and logging reach the logs with the request id", "[integration][python]") {
  PythonEnv env;
  auto r = env.call("py-chatty");
  REQUIRE(r.data == "chatted");
  std::string rid = r.header("Natsfn-Request-Id");
  CHECK(wait_until([&] {
    auto log = env.sidecar->log();
    return log.find("printed for " + rid) != std::string::npos &&
           log.find("warned for " + rid) != std::string::npos;
  }));
}
