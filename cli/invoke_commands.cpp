// natsfn invoke|logs|status
#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "cli/cli_context.hpp"
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

  app.add_subcommand("status", "what the catalogue holds")->callback([&ctx] {
    auto& cat = ctx.catalogue();
    auto fns = check(cat.list_functions());
    auto binds = check(cat.list_bindings());
    auto pkgs = check(ctx.packages().list());
    std::cout << "server     " << natsConnection_GetConnectedUrl(ctx.nc(), nullptr, 0) << "\n";
    std::cout << "packages   " << pkgs.size() << "\n";
    std::cout << "functions  " << fns.items.size() << "\n";
    std::cout << "bindings   " << binds.items.size() << "\n";
    for (auto& p : fns.problems) std::cout << "problem    " << p.message() << "\n";
    for (auto& p : binds.problems) std::cout << "problem    " << p.message() << "\n";
  });
}

}  // namespace natsfn::cli
