// natsfn-http: flags in, HttpBridge out. Everything else lives in bridge-http/src.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>

#include "core/daemon_log.hpp"
#include "bridge-http/src/http_bridge.hpp"

namespace {

// Every keep-alive connection is a descriptor; take all the soft limit the hard limit allows.
void raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

}  // namespace

int main(int argc, char** argv) {
  natsfn::BridgeOptions options;
  std::string listen = "127.0.0.1:8080";
  std::string log_level = "info";
  double timeout_s = options.timeout_ms / 1000.0;
  double header_timeout_s = options.header_timeout_ms / 1000.0;
  double idle_timeout_s = options.idle_timeout_ms / 1000.0;

  CLI::App app{"natsfn-http: serves HTTP (API Gateway proxy events) from natsfn functions"};
  options.connection.add_flags(app);
  app.add_option("--listen", listen, "HOST:PORT to serve on (port 0: any free port)")
      ->capture_default_str();
  app.add_option("--port-file", options.port_file, "write the bound port here once serving");
  app.add_option("--max-body", options.max_body, "largest request body in bytes (else 413)")
      ->capture_default_str();
  app.add_option("--max-header", options.max_header,
                 "largest request line + headers in bytes (else 431)")
      ->capture_default_str();
  app.add_option("--timeout", timeout_s, "seconds to wait for a function (else 504)")
      ->capture_default_str();
  app.add_option("--header-timeout", header_timeout_s,
                 "seconds a client may take to send a request's headers (else 408 and close)")
      ->capture_default_str();
  app.add_option("--idle-timeout", idle_timeout_s,
                 "seconds an idle keep-alive connection stays open")
      ->capture_default_str();
  app.add_option("--max-pipeline", options.max_pipeline,
                 "requests queued on one connection before it is read no further")
      ->capture_default_str();
  app.add_flag("--default-routes", options.default_routes, "/<function> invokes any function");
  app.add_flag("!--no-access-log", options.access_log, "do not log a line per request");
  app.add_flag("--buffered-publish", options.buffered_publish,
               "batch NATS publishes: more throughput under load, up to ~1 ms more latency");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  // The access log is a line per request: flushed in batches (core/daemon_log.hpp).
  natsfn::setup_daemon_logging(log_level, natsfn::LogFlush::periodic);
  if (auto s = natsfn::parse_listen(listen, options.host, options.port); !s) {
    spdlog::error("{}", s.message());
    return 2;
  }
  if (timeout_s <= 0 || header_timeout_s <= 0 || idle_timeout_s <= 0 || options.max_pipeline == 0) {
    spdlog::error("timeouts and --max-pipeline must be positive");
    return 2;
  }
  options.timeout_ms = static_cast<int64_t>(timeout_s * 1000);
  options.header_timeout_ms = static_cast<int64_t>(header_timeout_s * 1000);
  options.idle_timeout_ms = static_cast<int64_t>(idle_timeout_s * 1000);
  options.connection.apply_environment();
  raise_fd_limit();
  // A client that resets its connection mid-write must not take the bridge with it.
  signal(SIGPIPE, SIG_IGN);

  int rc = 0;
  {
    natsfn::HttpBridge bridge(std::move(options));
    rc = bridge.run();
  }
  nats_Close();
  natsfn::shutdown_daemon_logging();
  return rc;
}
