#pragma once
// A real nats-server with JetStream for one test: free loopback port (-p -1, read back from the
// ports file), its own temp store dir, stopped and cleaned up by the destructor.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>

#include "core/connection.hpp"

namespace natsfn::test {

class NatsServer {
 public:
  NatsServer();  // starts it; throws with the server's log if it does not come up
  ~NatsServer();
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;

  const std::string& url() const { return url_; }
  int port() const { return port_; }
  const std::string& dir() const { return dir_; }

  // Stops the server (SIGTERM, then SIGKILL) keeping its store; start() brings it back on the
  // same port, for reconnect tests.
  void stop();
  void start();
  std::string log() const;

 private:
  void spawn(int port);

  std::string dir_;
  std::string url_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// A connection to the server; the test fails if it does not open.
ConnectionPtr connect_to(const NatsServer& server, ConnectOptions options = {});

// Polls pred until it is true or the deadline passes; returns the last value of pred.
bool wait_until(const std::function<bool()>& pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(10),
                std::chrono::milliseconds poll = std::chrono::milliseconds(10));

// Absolute path of a built binary or source file, set by CMake.
std::string build_path(const std::string& relative);
std::string source_path(const std::string& relative);

}  // namespace natsfn::test
