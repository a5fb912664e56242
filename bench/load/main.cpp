// natsfn-bench: request/reply load against any subject, a raw echo responder, the raw-vs-function
// comparison, cold-start timing and process-level floors. Not a test: it prints numbers.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <thread>

#include "bench/load/catalogue_fill.hpp"
#include "bench/load/cold_start.hpp"
#include "bench/load/compare.hpp"
#include "bench/load/echo_responder.hpp"
#include "bench/load/process_timing.hpp"
#include "bench/load/request_driver.hpp"
#include "core/connection.hpp"
#include "core/duration.hpp"

namespace {

using namespace natsfn;
using namespace natsfn::bench;

ConnectionPtr open(const std::string& server, const char* name) {
  ConnectionConfig config;
  config.servers = server;
  config.name = name;
  config.apply_environment();
  ConnectOptions options;
  options.send_asap = true;  // no ~1 ms publish buffering on either side of a round trip
  auto nc = natsfn::connect(config, options);
  if (!nc.ok()) throw std::runtime_error(nc.status().message());
  return std::move(nc).value();
}

double seconds(const std::string& text) {
  auto ms = parse_duration(text);
  if (!ms.ok()) throw CLI::ValidationError("duration", ms.status().message());
  return static_cast<double>(ms.value()) / 1000.0;
}

void print(const char* what, RunSamples samples, bool json) {
  Summary s = summarize(samples);
  if (json)
    printf("%s\n", to_json(s).c_str());
  else
    printf("%-10s %s\n", what, describe(s).c_str());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"natsfn-bench: request/reply load, raw vs function comparison, cold starts"};
  app.require_subcommand(1);
  std::string server = "nats://127.0.0.1:4222";
  bool json = false;
  app.add_option("--server,-s", server, "NATS server URL")->capture_default_str();
  app.add_flag("--json", json, "print JSON instead of text");

  // request
  LoadSpec load;
  std::string duration = "5s";
  auto* request = app.add_subcommand("request", "request/reply load at one subject");
  request->add_option("--subject", load.subject)->required();
  request->add_option("--payload-size", load.payload_size)->capture_default_str();
  request->add_option("--count", load.count, "requests to send (default: --duration)");
  request->add_option("--duration", duration, "e.g. 5s")->capture_default_str();
  request->add_option("--inflight,-k", load.inflight, "requests kept in flight")->capture_default_str();
  request->add_option("--timeout-ms", load.timeout_ms)->capture_default_str();
  request->add_flag("--verify", load.verify, "count replies that differ from the payload as failed");

  // responder
  std::string responder_subject;
  auto* responder = app.add_subcommand("responder", "raw nats.c echo responder (until SIGINT)");
  responder->add_option("--subject", responder_subject)->required();

  // compare
  CompareSpec cmp;
  std::string cmp_duration = "3s", cmp_warmup = "1s";
  std::vector<int> ks;
  std::vector<std::string> goals;
  auto* compare = app.add_subcommand("compare", "baseline echo vs function subject at each K");
  compare->add_option("--function-subject", cmp.function_subject)->required();
  compare->add_option("--function-label", cmp.function_label)->capture_default_str();
  compare->add_option("--baseline-subject", cmp.baseline_subject,
                      "an external baseline (default: an in-process raw nats.c echo responder)");
  compare->add_option("--baseline-label", cmp.baseline_label)->capture_default_str();
  compare->add_option("--k", ks, "concurrencies, e.g. 1,64")->delimiter(',');
  compare->add_option("--payload-size", cmp.payload_size)->capture_default_str();
  compare->add_option("--duration", cmp_duration)->capture_default_str();
  compare->add_option("--warmup", cmp_warmup)->capture_default_str();
  compare->add_option("--rounds", cmp.rounds)->capture_default_str();
  compare->add_option("--goal", goals, "K:ratio, e.g. 1:0.75 (repeatable)");
  compare->add_flag("!--no-verify", cmp.verify, "do not check that replies echo the payload");

  // cold
  ColdSpec cold;
  int sidecar_pid = 0;
  auto* cold_cmd = app.add_subcommand("cold", "request→reply time with no warm worker");
  cold_cmd->add_option("--subject", cold.subject_template, "{i} is replaced by the run number")
      ->required();
  cold_cmd->add_option("--runs", cold.runs)->capture_default_str();
  cold_cmd->add_option("--sidecar-pid", sidecar_pid,
                       "wait until this sidecar has no workers before each run");
  cold_cmd->add_option("--settle-ms", cold.settle_ms)->capture_default_str();
  cold_cmd->add_option("--timeout-ms", cold.timeout_ms)->capture_default_str();
  cold_cmd->add_option("--payload-size", cold.payload_size)->capture_default_str();
  cold_cmd->add_flag("--verify", cold.verify);
  cold_cmd->add_flag("--verbose,-v", cold.verbose, "one line per run on stderr");

  // spawn
  std::vector<std::string> spawn_argv{"/bin/true"};
  int spawn_runs = 200;
  auto* spawn = app.add_subcommand("spawn", "posix_spawn + wait of a command, N times");
  spawn->add_option("--runs", spawn_runs)->capture_default_str();
  spawn->add_option("command", spawn_argv, "command and arguments (after --)")->capture_default_str();

  // rtt
  int rtt_runs = 20000;
  size_t rtt_size = 16;
  auto* rtt = app.add_subcommand("rtt", "unix socketpair round trip between two processes");
  rtt->add_option("--runs", rtt_runs)->capture_default_str();
  rtt->add_option("--payload-size", rtt_size)->capture_default_str();

  // catalogue-fill
  FillSpec fill;
  auto* fill_cmd = app.add_subcommand("catalogue-fill", "clone a function N times, each bound");
  fill_cmd->add_option("--from", fill.template_function, "existing function to clone")->required();
  fill_cmd->add_option("--count", fill.count)->capture_default_str();
  fill_cmd->add_option("--name-prefix", fill.name_prefix)->capture_default_str();
  fill_cmd->add_option("--bind-prefix", fill.bind_prefix, "empty: no bindings")->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  try {
    if (*request) {
      if (load.count == 0) load.duration_s = seconds(duration);
      auto nc = open(server, "natsfn-bench");
      print("request", run_load(nc.get(), load), json);
    } else if (*responder) {
      auto nc = open(server, "natsfn-bench-responder");
      EchoResponder echo;
      if (Status s = echo.start(nc.get(), responder_subject); !s.ok())
        throw std::runtime_error(s.message());
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, SIGINT);
      sigaddset(&set, SIGTERM);
      pthread_sigmask(SIG_BLOCK, &set, nullptr);
      fprintf(stderr, "echo responder on %s (SIGINT/SIGTERM to stop)\n", responder_subject.c_str());
      int sig = 0;
      sigwait(&set, &sig);
      fprintf(stderr, "answered %llu requests\n", static_cast<unsigned long long>(echo.answered()));
    } else if (*compare) {
      if (!ks.empty()) cmp.ks = ks;
      cmp.duration_s = seconds(cmp_duration);
      cmp.warmup_s = seconds(cmp_warmup);
      cmp.json = json;
      for (auto& g : goals) {
        auto colon = g.find(':');
        if (colon == std::string::npos) throw std::runtime_error("--goal " + g + ": use K:ratio");
        cmp.goals.emplace_back(std::stoi(g.substr(0, colon)), std::stod(g.substr(colon + 1)));
      }
      auto client = open(server, "natsfn-bench");
      auto responder_nc = open(server, "natsfn-bench-responder");
      return run_compare(client.get(), responder_nc.get(), cmp);
    } else if (*cold_cmd) {
      cold.sidecar_pid = sidecar_pid;
      auto nc = open(server, "natsfn-bench");
      print("cold", run_cold(nc.get(), cold), json);
    } else if (*spawn) {
      print("spawn", time_spawn(spawn_argv, spawn_runs), json);
    } else if (*fill_cmd) {
      auto nc = open(server, "natsfn-bench");
      if (Status s = fill_catalogue(nc.get(), fill); !s.ok()) throw std::runtime_error(s.message());
      printf("put %d functions %s000..%s%03d\n", fill.count, fill.name_prefix.c_str(),
             fill.name_prefix.c_str(), fill.count - 1);
    } else if (*rtt) {
      print("rtt", time_socketpair_rtt(rtt_size, rtt_runs), json);
    }
  } catch (const std::exception& e) {
    fprintf(stderr, "natsfn-bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
