// natsfn invoke|logs|status
#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/cli_context.hpp"
#include "cli/output.hpp"
#include "core/nats_handles.hpp"
#include "core/duration.hpp"
#include "core/names.hpp"

namespace natsfn::cli {
namespace {

std::string read_payload(const std::string& arg) {
  if (arg.empty() || arg[0] != '@') return arg;
  std::string path = arg.substr(1);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CliError("'" + path + "': file not found");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One sidecar's $SRV.STATS answer and what `status` prints of it. Anything on the bus may answer
// on that subject, so fields are taken only when present with the right type.
struct SidecarStats {
  nlohmann::json answer;  // as received, for --json
  std::string id, version, started;
  size_t functions = 0;
  uint64_t requests = 0, errors = 0;
};

std::string text_field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

uint64_t count_field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

// Every sidecar answers ADR-32's $SRV.STATS.natsfn (sidecar/src/service_discovery.hpp): what
// arrives within the window is the set of live sidecars. Answers that are not stats responses
// are skipped.
std::vector<SidecarStats> discover_sidecars(natsConnection* nc, int64_t window_ms) {
  std::string reply = check(new_inbox());
  natsSubscription* raw = nullptr;
  if (natsConnection_SubscribeSync(&raw, nc, reply.c_str()) != NATS_OK)
    throw CliError("cannot subscribe for $SRV replies");
  SubscriptionPtr sub(raw);
  natsConnection_PublishRequest(nc, "$SRV.STATS.natsfn", reply.c_str(), "", 0);
  natsConnection_Flush(nc);
  std::vector<SidecarStats> out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(window_ms);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) break;
    natsMsg* m = nullptr;
    if (natsSubscription_NextMsg(&m, sub.get(), left) != NATS_OK) break;
    MsgPtr msg(m);
    auto j = nlohmann::json::parse(natsMsg_GetData(m), natsMsg_GetData(m) + natsMsg_GetDataLength(m),
                                   nullptr, false);
    if (!j.is_object() || text_field(j, "type") != "io.nats.micro.v1.stats_response") continue;
    SidecarStats s{j, text_field(j, "id"), text_field(j, "version"), text_field(j, "started")};
    if (auto eps = j.find("endpoints"); eps != j.end() && eps->is_array()) {
      s.functions = eps->size();
      for (const auto& e : *eps) {
        s.requests += count_field(e, "num_requests");
        s.errors += count_field(e, "num_errors");
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::atomic<bool> interrupted{false};

void on_log_line(natsConnection*, natsSubscription*, natsMsg* msg, void*) {
  MsgPtr owned(msg);
  const char* rid = nullptr;
  natsMsgHeader_Get(msg, "Natsfn-Request-Id", &rid);
  std::string line(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
  std::cout << (rid ? rid : "-") << "  " << line << std::endl;
}

}  // namespace

void add_invoke_commands(CLI::App& app, CliContext& ctx) {
  static std::string name, payload, timeout = "30s";
  static bool async = false;
  auto* invoke = app.add_subcommand("invoke", "call a function and print its result");
  invoke->add_option("function", name)->required();
  invoke->add_option("payload", payload, "JSON text, or @file");
  invoke->add_flag("--async", async, "fire and forget (Lambda's Event type)");
  invoke->add_option("--timeout", timeout, "how long to wait for the reply")->capture_default_str();
  invoke->callback([&ctx] {
    check(validate_function_name(name));
    std::string body = read_payload(payload);
    std::string subject = invoke_subject(name);
    int64_t timeout_ms = check(parse_duration(timeout));
    if (async) {
      check(nats_status(natsConnection_Publish(ctx.nc(), subject.c_str(), body.data(),
                                               static_cast<int>(body.size())),
                        "publish"));
      check(nats_status(natsConnection_FlushTimeout(ctx.nc(), 5000), "flush"));
      if (!ctx.json) std::cerr << "queued " << name << "\n";
      return;
    }
    natsMsg* reply = nullptr;
    natsStatus s = natsConnection_Request(&reply, ctx.nc(), subject.c_str(), body.data(),
                                          static_cast<int>(body.size()), timeout_ms);
    if (s == NATS_NO_RESPONDERS)
      throw CliError("no sidecar answers " + subject + " (is natsfn-sidecar running and the function created?)");
    if (s == NATS_TIMEOUT) throw CliError("no reply from " + name + " within " + timeout);
    check(nats_status(s, "invoke " + name));
    MsgPtr owned(reply);
    std::cout.write(natsMsg_GetData(reply), natsMsg_GetDataLength(reply));
    const char* code = nullptr;
    if (natsMsgHeader_Get(reply, "Nats-Service-Error-Code", &code) == NATS_OK && code != nullptr) {
      const char* msg = nullptr;
      natsMsgHeader_Get(reply, "Nats-Service-Error", &msg);
      std::cout << std::endl;
      throw CliError(name + " failed (" + code + "): " + (msg ? msg : ""));
    }
    if (isatty(1)) std::cout << "\n";
  });

  static std::string logs_name;
  static std::string logs_for;
  auto* logs = app.add_subcommand("logs", "follow a function's output (natsfn.logs.<function>)");
  logs->add_option("function", logs_name)->required();
  static bool follow = true;
  logs->add_flag("-f,--follow", follow, "keep following (the default; logs are live, not stored)");
  logs->add_option("--for", logs_for, "stop after this long, e.g. 10s");
  logs->callback([&ctx] {
    check(validate_function_name(logs_name));
    std::string subject = "natsfn.logs." + logs_name;
    natsSubscription* raw = nullptr;
    check(nats_status(natsConnection_Subscribe(&raw, ctx.nc(), subject.c_str(), on_log_line, nullptr),
                      "subscribe " + subject));
    SubscriptionPtr sub(raw);
    signal(SIGINT, [](int) { interrupted = true; });
    int64_t limit_ms = logs_for.empty() ? -1 : check(parse_duration(logs_for));
    auto start = std::chrono::steady_clock::now();
    while (!interrupted) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (limit_ms >= 0 && std::chrono::steady_clock::now() - start > std::chrono::milliseconds(limit_ms))
        break;
    }
    natsSubscription_Unsubscribe(sub.get());
  });

  auto* status = app.add_subcommand("status", "what the catalogue holds and which sidecars serve it");
  static std::string wait = "500ms";
  status->add_option("--wait", wait, "how long to collect sidecars' $SRV answers")->capture_default_str();
  status->callback([&ctx] {
    auto& cat = ctx.catalogue();
    auto fns = check(cat.list_functions());
    auto binds = check(cat.list_bindings());
    auto pkgs = check(ctx.packages().list());
    auto sidecars = discover_sidecars(ctx.nc(), check(parse_duration(wait)));
    char url[256] = "";
    natsConnection_GetConnectedUrl(ctx.nc(), url, sizeof(url));
    if (ctx.json) {
      nlohmann::json answers = nlohmann::json::array();
      for (const auto& sc : sidecars) answers.push_back(sc.answer);
      nlohmann::json j = {{"server", url}, {"packages", pkgs.size()}, {"functions", fns.items.size()},
                          {"bindings", binds.items.size()}, {"sidecars", answers}};
      std::cout << j.dump() << "\n";
      return;
    }
    std::cout << "server     " << url << "\n";
    std::cout << "packages   " << pkgs.size() << "\n";
    std::cout << "functions  " << fns.items.size() << "\n";
    std::cout << "bindings   " << binds.items.size() << "\n";
    std::cout << "sidecars   " << sidecars.size() << "\n";
    for (auto& p : fns.problems) std::cout << "problem    " << p.message() << "\n";
    for (auto& p : binds.problems) std::cout << "problem    " << p.message() << "\n";
    if (sidecars.empty()) return;
    std::vector<std::vector<std::string>> rows;
    for (const auto& sc : sidecars)
      rows.push_back({sc.id, sc.version, std::to_string(sc.functions), std::to_string(sc.requests),
                      std::to_string(sc.errors), sc.started});
    std::cout << "\n";
    print_table({"SIDECAR", "VERSION", "FUNCTIONS", "REQUESTS", "ERRORS", "STARTED"}, rows);
  });
}

}  // namespace natsfn::cli
