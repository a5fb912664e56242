#pragma once
// Real processes for integration tests: run a command to completion, or keep one (a sidecar)
// running in the background with its output in a log file.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/nats_handles.hpp"

namespace natsfn::test {

struct CommandResult {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs argv[0] (absolute path) with argv, waits for it (killed after timeout).
CommandResult run_command(const std::vector<std::string>& argv,
                          std::chrono::milliseconds timeout = std::chrono::seconds(60));

// `natsfn --server URL args...` with the built CLI.
CommandResult natsfn_cli(const std::string& url, const std::vector<std::string>& args);

class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::string& log_path);
  ~ChildProcess();  // SIGKILL if still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void signal(int sig);
  // Waits for exit; returns the exit code (128+signal when killed), -1 on timeout.
  int wait(std::chrono::milliseconds timeout);
  // SIGTERM, wait, SIGKILL if needed.
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(15));
  std::string log() const;

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  std::string log_path_;
};

// Starts the built natsfn-sidecar against url with its own cache dir under dir.
class Sidecar {
 public:
  // cache_dir empty: a fresh one under dir.
  Sidecar(const std::string& url, const std::string& dir, std::vector<std::string> extra = {},
          std::string cache_dir = "");
  // Stops it with SIGTERM so it drains and reaps its workers (a SIGKILLed one takes them with it
  // through natsfn-worker-launch's parent-death signal, but leaves them to be reaped by others).
  ~Sidecar();
  const std::string& cache_dir() const { return cache_dir_; }
  ChildProcess& process() { return *proc_; }
  std::string log() const { return proc_->log(); }
  // Pids of its worker processes (its direct children).
  std::vector<pid_t> workers() const;

 private:
  std::unique_ptr<ChildProcess> proc_;
  std::string cache_dir_;
};

struct Reply {
  natsStatus status = NATS_OK;
  std::string data;
  std::map<std::string, std::string> headers;
  std::string header(const std::string& k) const {
    auto it = headers.find(k);
    return it == headers.end() ? "" : it->second;
  }
};

class Requester {
 public:
  explicit Requester(const std::string& url);
  Reply request(const std::string& subject, const std::string& payload,
                int64_t timeout_ms = 5000);
  // Retries until a reply arrives (e.g. while a sidecar starts) or the deadline passes.
  Reply request_until_answered(const std::string& subject, const std::string& payload,
                               std::chrono::milliseconds deadline = std::chrono::seconds(15));
  // A wildcard inbox for many requests in flight on this connection: each request's reply
  // subject is prefix + a token of the caller's choosing.
  struct Inbox {
    std::string prefix;
    SubscriptionPtr sub;
  };
  Inbox inbox();
  natsConnection* nc() { return nc_.get(); }

 private:
  ConnectionPtr nc_;
};

// A fresh temp dir removed on destruction.
struct TempDir {
  TempDir();
  ~TempDir();
  std::string path;
};

// The whole file ("" if it cannot be read).
std::string read_file(const std::string& path);
// Writes content, creating parent directories, then applies mode.
void write_file(const std::string& path, const std::string& content, mode_t mode = 0644);

// Writes a package directory: files maps relative path → content; `executable` ones get 0755.
void write_package(const std::string& dir, const std::map<std::string, std::string>& files,
                   const std::vector<std::string>& executable = {});

}  // namespace natsfn::test
