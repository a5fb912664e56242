// natsfn-sidecar: flags in, Sidecar out. Everything else lives in sidecar/src.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>

#include "core/daemon_log.hpp"
#include "sidecar/src/sidecar.hpp"

int main(int argc, char** argv) {
  natsfn::SidecarOptions options;
  std::string log_level = "info";
  CLI::App app{"natsfn-sidecar: serves functions bound to NATS subjects"};
  options.connection.add_flags(app);
  app.add_option("--cache-dir", options.cache_dir, "where packages are extracted")
      ->default_str("$XDG_CACHE_HOME/natsfn or /tmp/natsfn-cache");
  app.add_option("--queue", options.queue, "queue group shared by all sidecars")->capture_default_str();
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")->capture_default_str();
  app.add_option("--idle-ttl-ms", options.idle_ttl_ms, "idle workers above min_warm leave after this")
      ->capture_default_str();
  app.add_flag("!--no-colocate-workers", options.colocate_workers,
               "do not run a worker on the sidecar's CPU while it serves the only invocation in "
               "flight (lower latency at low load)");
  app.add_option("--grace-ms", options.grace_ms, "SIGTERM: time allowed for in-flight work")
      ->capture_default_str();
  app.add_option("--replicas", options.replicas, "replicas for buckets this sidecar creates")
      ->capture_default_str();
  app.add_option("--node", options.paths.node, "node executable (default: from PATH)");
  app.add_option("--python", options.paths.python,
                 "python3 executable (default: /usr/bin/python3, else PATH)");
  app.add_option("--runtimes-dir", options.paths.runtimes_dir,
                 "runtime bootstraps (default: next to this binary)");
  app.add_flag("!--no-publish-logs", options.publish_logs,
               "do not publish function output on natsfn.logs.<function>");
  app.add_option("--worker-uid", options.worker_uid, "run workers as this uid (needs root)");
  app.add_option("--worker-gid", options.worker_gid, "run workers as this gid (needs root)");
  CLI11_PARSE(app, argc, argv);

  natsfn::setup_daemon_logging(log_level);
  options.connection.apply_environment();
  if (options.cache_dir.empty()) {
    const char* xdg = std::getenv("XDG_CACHE_HOME");
    options.cache_dir = xdg ? std::string(xdg) + "/natsfn" : "/tmp/natsfn-cache";
  }
  auto exe_dir = std::filesystem::canonical("/proc/self/exe").parent_path().string();
  options.paths.resolve(exe_dir);

  // A worker that dies while we write to it must not take the sidecar with it.
  signal(SIGPIPE, SIG_IGN);
  natsfn::Sidecar sidecar(std::move(options));
  int rc = sidecar.run();
  nats_Close();
  natsfn::shutdown_daemon_logging();
  return rc;
}
