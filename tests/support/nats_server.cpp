#include "tests/support/nats_server.hpp"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace fs = std::filesystem;

namespace natsfn::test {
namespace {

std::string make_temp_dir() {
  std::string tmpl = (fs::temp_directory_path() / "natsfn-test-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

// nats-server writes <dir>/nats-server_<pid>.ports as JSON with "nats":["nats://127.0.0.1:N"].
int read_port(const std::string& dir, pid_t pid) {
  std::ifstream in(dir + "/nats-server_" + std::to_string(pid) + ".ports");
  if (!in) return 0;
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  auto scheme = text.find("nats://");
  if (scheme == std::string::npos) return 0;
  auto colon = text.find(':', scheme + 7);
  if (colon == std::string::npos) return 0;
  return std::atoi(text.c_str() + colon + 1);
}

bool log_text_contains(const std::string& path, const std::string& needle) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (line.find(needle) != std::string::npos) return true;
  return false;
}

}  // namespace

NatsServer::NatsServer() : dir_(make_temp_dir()) { spawn(-1); }

NatsServer::~NatsServer() {
  stop();
  std::error_code ec;
  if (std::getenv("NATSFN_KEEP_TEST_DIRS") == nullptr) fs::remove_all(dir_, ec);
}

void NatsServer::spawn(int port) {
  std::string store = dir_ + "/js";
  std::string log = dir_ + "/server.log";
  std::string port_arg = std::to_string(port);
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execlp("nats-server", "nats-server", "-js", "-sd", store.c_str(), "-a", "127.0.0.1", "-p",
           port_arg.c_str(), "--ports_file_dir", dir_.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  bool up = wait_until(
      [&] {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
          pid_ = -1;
          return true;  // died: reported below
        }
        port_ = read_port(dir_, pid_);
        if (port_ == 0) return false;
        // The ports file appears once listening; JetStream is ready when the log says so.
        return log_text_contains(log, "Server is ready");
      },
      std::chrono::seconds(15));
  if (!up || pid_ < 0) throw std::runtime_error("nats-server did not start:\n" + this->log());
  url_ = "nats://127.0.0.1:" + std::to_string(port_);
}

void NatsServer::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  bool gone = wait_until([&] { return waitpid(pid_, nullptr, WNOHANG) == pid_; },
                         std::chrono::seconds(5));
  if (!gone) {
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  // The ports file of a stopped server would mislead the next start.
  std::error_code ec;
  fs::remove(dir_ + "/nats-server_" + std::to_string(pid_) + ".ports", ec);
  pid_ = -1;
}

void NatsServer::start() {
  if (pid_ > 0) return;
  spawn(port_);
}

std::string NatsServer::log() const {
  std::ifstream in(dir_ + "/server.log");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(poll);
  }
}

std::string build_path(const std::string& relative) {
  return std::string(NATSFN_BUILD_DIR) + "/" + relative;
}
std::string source_path(const std::string& relative) {
  return std::string(NATSFN_SOURCE_DIR) + "/" + relative;
}

ConnectionPtr connect_to(const NatsServer& server, ConnectOptions options) {
  ConnectionConfig config;
  config.servers = server.url();
  auto conn = connect(config, options);
  INFO(conn.status().message());
  REQUIRE(conn.ok());
  return std::move(conn).value();
}

}  // namespace natsfn::test
