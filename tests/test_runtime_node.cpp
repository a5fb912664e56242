// Unmodified AWS Lambda Node.js handlers through the real sidecar and real node processes.
#include <nlohmann/json.hpp>

#include "tests/support/sidecar_env.hpp"

using namespace natsfn;
using namespace natsfn::test;
using json = nlohmann::json;

namespace {

const char* kHandlers = R"JS(
exports.asyncHandler = async (event, context) => ({
  got: event, rid: context.awsRequestId, fn: context.functionName,
  mem: context.memoryLimitInMB, arn: context.invokedFunctionArn,
  greeting: process.env.GREETING, lambdaName: process.env.AWS_LAMBDA_FUNCTION_NAME,
  root: process.env.LAMBDA_TASK_ROOT });
exports.promiseHandler = (event) => Promise.resolve('promised');
exports.callbackHandler = (event, context, callback) => { setTimeout(() => callback(null, 'called back'), 5); };
exports.succeedHandler = function(event, context) { context.succeed('hello'); };
exports.failHandler = function(event, context) { context.fail(new Error('nope')); };
exports.doneHandler = function(event, context) { context.done(null, 'done!'); };
exports.throwHandler = async () => { throw new TypeError('bad type'); };
exports.rejectHandler = () => Promise.reject(new RangeError('rejected'));
exports.callbackErrorHandler = (e, c, cb) => cb(new Error('cb error'));
exports.neverHandler = (e, c, cb) => { setInterval(() => {}, 1000); };
exports.exitHandler = () => { process.exit(1); };
exports.memoryHandler = async () => { const a = []; for (;;) a.push(new Array(1e6).fill(1.5)); };
exports.logHandler = async (e, ctx) => { console.log('log line for', ctx.awsRequestId); return 'logged'; };
exports.remainingHandler = async (e, ctx) => {
  const a = ctx.getRemainingTimeInMillis();
  await new Promise(r => setTimeout(r, 50));
  return { a, b: ctx.getRemainingTimeInMillis() };
};
exports.echo = async (e) => e;
exports.undefinedHandler = async () => undefined;
exports.bufferHandler = async () => Buffer.from([0, 1, 2, 255]);
exports.slowEcho = async (e) => { await new Promise(r => setTimeout(r, 10)); return e; };
)JS";

struct NodeEnv : SidecarEnv {
  TempDir pkg;
  std::unique_ptr<Sidecar> sidecar;

  NodeEnv() {
    write_package(pkg.path, {{"index.js", kHandlers},
                             {"natsfn.json", R"({"name":"node-async","runtime":"nodejs20.x",
                               "handler":"index.asyncHandler","env":{"GREETING":"hi"}})"}});
    deploy(pkg.path);
    for (auto [name, handler] : std::initializer_list<std::pair<const char*, const char*>>{
             {"node-promise", "promiseHandler"}, {"node-callback", "callbackHandler"},
             {"node-succeed", "succeedHandler"}, {"node-fail", "failHandler"},
             {"node-done", "doneHandler"}, {"node-throw", "throwHandler"},
             {"node-reject", "rejectHandler"}, {"node-cberr", "callbackErrorHandler"},
             {"node-exit", "exitHandler"}, {"node-log", "logHandler"},
             {"node-remaining", "remainingHandler"}, {"node-echo", "echo"},
             {"node-undefined", "undefinedHandler"}, {"node-buffer", "bufferHandler"}}) {
      cli({"fn", "create", name, "--package", "node-async", "--runtime", "nodejs20.x",
           "--handler", std::string("index.") + handler});
    }
    cli({"fn", "create", "node-never", "--package", "node-async", "--runtime", "node",
         "--handler", "index.neverHandler", "--timeout", "700ms"});
    cli({"fn", "create", "node-memory", "--package", "node-async", "--runtime", "node",
         "--handler", "index.memoryHandler", "--memory", "64", "--timeout", "20s"});
    cli({"fn", "create", "node-busy", "--package", "node-async", "--runtime", "node",
         "--handler", "index.slowEcho", "--concurrency", "4", "--queue", "300"});
    sidecar = start_sidecar();
    REQUIRE(client.request_until_answered("natsfn.invoke.node-succeed", "").data == "hello");
  }
  Reply call(const std::string& fn, const std::string& payload = "", int64_t timeout = 10000) {
    return client.request("natsfn.invoke." + fn, payload, timeout);
  }
};

}  // namespace

TEST_CASE("node: every handler style answers", "[integration][node]") {
  NodeEnv env;
  auto a = env.call("node-async", R"({"x":1})");
  REQUIRE(a.status == NATS_OK);
  INFO(a.data);
  auto j = json::parse(a.data);
  CHECK(j["got"]["x"] == 1);
  CHECK(j["rid"] == a.header("Natsfn-Request-Id"));
  CHECK(j["fn"] == "node-async");
  CHECK(j["mem"] == "128");
  CHECK(j["greeting"] == "hi");
  CHECK(j["lambdaName"] == "node-async");
  CHECK(!j["arn"].get<std::string>().empty());
  CHECK(!j["root"].get<std::string>().empty());

  CHECK(env.call("node-promise").data == "promised");
  CHECK(env.call("node-callback").data == "called back");
  CHECK(env.call("node-succeed").data == "hello");
  CHECK(env.call("node-done").data == "done!");
  CHECK(env.call("node-echo", "plain text").data == "plain text");
  CHECK(env.call("node-echo", R"({"a":[1,2]})").data == R"({"a":[1,2]})");
  CHECK(env.call("node-undefined").data.empty());
  CHECK(env.call("node-buffer").data == std::string("\0\1\2\xff", 4));
}

TEST_CASE("node: errors become Lambda error JSON with 500", "[integration][node]") {
  NodeEnv env;
  struct Case {
    const char* fn;
    const char* type;
    const char* message;
  };
  for (auto c : {Case{"node-fail", "Error", "nope"}, Case{"node-throw", "TypeError", "bad type"},
                 Case{"node-reject", "RangeError", "rejected"},
                 Case{"node-cberr", "Error", "cb error"}}) {
    INFO(c.fn);
    auto r = env.call(c.fn);
    REQUIRE(r.status == NATS_OK);
    CHECK(r.header("Nats-Service-Error-Code") == "500");
    auto j = json::parse(r.data);
    CHECK(j["errorType"] == c.type);
    CHECK(j["errorMessage"] == c.message);
    CHECK(j["stackTrace"].is_array());
  }
}

TEST_CASE("node: a hang times out, exit and OOM are 502, and the function recovers", "[integration][node]") {
  NodeEnv env;
  auto t = env.call("node-never");
  REQUIRE(t.status == NATS_OK);
  CHECK(t.header("Nats-Service-Error-Code") == "504");
  CHECK(t.data.find("Task timed out after 0.70 seconds") != std::string::npos);
  CHECK(env.call("node-never").header("Nats-Service-Error-Code") == "504");  // replaced, again

  auto x = env.call("node-exit");
  REQUIRE(x.status == NATS_OK);
  CHECK(x.header("Nats-Service-Error-Code") == "502");
  CHECK(env.call("node-exit").header("Nats-Service-Error-Code") == "502");

  auto m = env.call("node-memory", "", 30000);
  REQUIRE(m.status == NATS_OK);
  CHECK(m.header("Nats-Service-Error-Code") == "502");
  CHECK(env.sidecar->process().running());
  CHECK(env.call("node-succeed").data == "hello");
}

TEST_CASE("node: remaining time decreases and stays within the timeout", "[integration][node]") {
  NodeEnv env;
  auto r = env.call("node-remaining");
  REQUIRE(r.status == NATS_OK);
  auto j = json::parse(r.data);
  int64_t a = j["a"], b = j["b"];
  CHECK(a <= 3000);
  CHECK(a > 0);
  CHECK(b < a);
}

TEST_CASE("node: console output reaches the logs with the request id", "[integration][node]") {
  NodeEnv env;
  natsSubscription* raw = nullptr;
  REQUIRE(natsConnection_SubscribeSync(&raw, env.client.nc(), "natsfn.logs.node-log") == NATS_OK);
  SubscriptionPtr sub(raw);
  natsConnection_Flush(env.client.nc());
  auto r = env.call("node-log");
  REQUIRE(r.data == "logged");
  std::string rid = r.header("Natsfn-Request-Id");
  natsMsg* line = nullptr;
  REQUIRE(natsSubscription_NextMsg(&line, sub.get(), 5000) == NATS_OK);
  MsgPtr owned(line);
  std::string text(natsMsg_GetData(line), natsMsg_GetDataLength(line));
  CHECK(text.find("log line for " + rid) != std::string::npos);
  const char* header_rid = nullptr;
  natsMsgHeader_Get(line, "Natsfn-Request-Id", &header_rid);
  REQUIRE(header_rid != nullptr);
  CHECK(std::string(header_rid) == rid);
  CHECK(wait_until([&] { return env.sidecar->log().find("log line for " + rid) != std::string::npos; }));
}

TEST_CASE("node: 200 concurrent requests to a concurrency-4 function all answer", "[integration][node]") {
  NodeEnv env;
  size_t workers_before = env.sidecar->workers().size();  // node-succeed's, from the set-up
  auto [prefix, sub] = env.client.inbox();
  for (int i = 0; i < 200; ++i) {
    std::string payload = "p" + std::to_string(i);
    natsConnection_PublishRequest(env.client.nc(), "natsfn.invoke.node-busy",
                                  (prefix + std::to_string(i)).c_str(), payload.data(),
                                  static_cast<int>(payload.size()));
  }
  natsConnection_Flush(env.client.nc());
  int answered = 0, correct = 0, refused = 0;
  while (answered < 200) {
    natsMsg* m = nullptr;
    if (natsSubscription_NextMsg(&m, sub.get(), 20000) != NATS_OK) break;
    MsgPtr owned(m);
    ++answered;
    std::string subject = natsMsg_GetSubject(m);
    std::string data(natsMsg_GetData(m), natsMsg_GetDataLength(m));
    const char* code = nullptr;
    if (natsMsgHeader_Get(m, "Nats-Service-Error-Code", &code) == NATS_OK && code &&
        std::string(code) == "429")
      ++refused;
    else if (data == "p" + subject.substr(prefix.size()))
      ++correct;
  }
  CHECK(answered == 200);
  CHECK(correct == 200);  // the queue (300) is large enough that nothing is refused
  CHECK(refused == 0);
  CHECK(env.sidecar->workers().size() <= workers_before + 4);
}
