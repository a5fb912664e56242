#pragma once
// Everything a sidecar integration test needs: a real nats-server, a temp dir, a requester and
// helpers that drive the real CLI.

#include <catch2/catch.hpp>

#include "tests/support/nats_server.hpp"
#include "tests/support/processes.hpp"

namespace natsfn::test {

struct SidecarEnv {
  NatsServer server;
  TempDir dir;
  Requester client{server.url()};

  // Runs the CLI and requires success.
  std::string cli(const std::vector<std::string>& args) {
    auto r = natsfn_cli(server.url(), args);
    INFO("natsfn " << args[0] << ": " << r.err << r.out);
    REQUIRE(r.code == 0);
    return r.out;
  }
  void deploy(const std::string& package_dir, std::vector<std::string> flags = {}) {
    std::vector<std::string> args = {"deploy", package_dir};
    args.insert(args.end(), flags.begin(), flags.end());
    cli(args);
  }
  void bind(const std::string& subject, const std::string& function) {
    cli({"bind", "-s", subject, "-f", function});
  }
  std::unique_ptr<Sidecar> start_sidecar(std::vector<std::string> extra = {},
                                         std::string cache_dir = "") {
    return std::make_unique<Sidecar>(server.url(), dir.path, std::move(extra), std::move(cache_dir));
  }
};

inline std::string example(const std::string& name) { return build_path("examples/" + name); }
inline std::string test_worker(const std::string& name) { return build_path("tests/workers/" + name); }

}  // namespace natsfn::test
