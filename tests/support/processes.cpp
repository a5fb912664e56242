#include "tests/support/processes.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "core/connection.hpp"
#include "tests/support/nats_server.hpp"

namespace fs = std::filesystem;

namespace natsfn::test {
namespace {

pid_t spawn(const std::vector<std::string>& argv, const std::string& out, const std::string& err) {
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    setpgid(0, 0);
    int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = out == err ? o : ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = ::open("/dev/null", O_RDONLY);
    dup2(in, 0);
    dup2(o, 1);
    dup2(e, 2);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  TempDir tmp;
  std::string out = tmp.path + "/out", err = tmp.path + "/err";
  pid_t pid = spawn(argv, out, err);
  int status = 0;
  bool done = wait_until([&] { return waitpid(pid, &status, WNOHANG) == pid; }, timeout,
                         std::chrono::milliseconds(5));
  if (!done) {
    ::kill(-pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  return {done ? decode_status(status) : -1, read_file(out), read_file(err)};
}

CommandResult natsfn_cli(const std::string& url, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {build_path("cli/natsfn"), "--server", url};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv);
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::string& log_path)
    : log_path_(log_path) {
  pid_ = spawn(argv, log_path, log_path);
}

ChildProcess::~ChildProcess() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

bool ChildProcess::running() {
  if (status_ != -1) return false;
  int st = 0;
  if (waitpid(pid_, &st, WNOHANG) == pid_) {
    status_ = decode_status(st);
    return false;
  }
  return true;
}

void ChildProcess::signal(int sig) {
  if (running()) ::kill(pid_, sig);
}

int ChildProcess::wait(std::chrono::milliseconds timeout) {
  wait_until([&] { return !running(); }, timeout, std::chrono::milliseconds(5));
  return running() ? -1 : status_;
}

int ChildProcess::stop(std::chrono::milliseconds grace) {
  signal(SIGTERM);
  int rc = wait(grace);
  if (rc == -1) {
    signal(SIGKILL);
    rc = wait(std::chrono::seconds(5));
  }
  return rc;
}

std::string ChildProcess::log() const { return read_file(log_path_); }

Sidecar::Sidecar(const std::string& url, const std::string& dir, std::vector<std::string> extra,
                 std::string cache_dir) {
  static int counter = 0;
  std::string id = std::to_string(++counter);
  cache_dir_ = cache_dir.empty() ? dir + "/cache" + id : cache_dir;
  std::vector<std::string> argv = {build_path("sidecar/natsfn-sidecar"), "--server", url,
                                   "--cache-dir", cache_dir_, "--log-level", "debug"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  proc_ = std::make_unique<ChildProcess>(argv, dir + "/sidecar" + id + ".log");
}

Sidecar::~Sidecar() {
  if (proc_) proc_->stop();
}

std::vector<pid_t> Sidecar::workers() const {
  std::vector<pid_t> out;
  std::ifstream in("/proc/" + std::to_string(proc_->pid()) + "/task/" +
                   std::to_string(proc_->pid()) + "/children");
  pid_t p;
  while (in >> p) out.push_back(p);
  return out;
}

Requester::Requester(const std::string& url) {
  ConnectionConfig cc;
  cc.servers = url;
  auto c = connect(cc);
  if (!c) throw std::runtime_error(c.status().message());
  nc_ = std::move(c).value();
}

Reply Requester::request(const std::string& subject, const std::string& payload, int64_t timeout_ms) {
  Reply r;
  natsMsg* msg = nullptr;
  r.status = natsConnection_Request(&msg, nc_.get(), subject.c_str(), payload.data(),
                                    static_cast<int>(payload.size()), timeout_ms);
  if (r.status != NATS_OK) return r;
  MsgPtr owned(msg);
  r.data.assign(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
  const char** keys = nullptr;
  int count = 0;
  if (natsMsgHeader_Keys(msg, &keys, &count) == NATS_OK) {
    for (int i = 0; i < count; ++i) {
      const char* v = nullptr;
      if (natsMsgHeader_Get(msg, keys[i], &v) == NATS_OK && v) r.headers[keys[i]] = v;
    }
    free(static_cast<void*>(keys));
  }
  return r;
}

Reply Requester::request_until_answered(const std::string& subject, const std::string& payload,
                                        std::chrono::milliseconds deadline) {
  Reply r;
  wait_until([&] {
    r = request(subject, payload, 2000);
    return r.status == NATS_OK;
  }, deadline, std::chrono::milliseconds(50));
  return r;
}

Requester::Inbox Requester::inbox() {
  Inbox out;
  out.prefix = new_inbox().value() + ".";
  natsSubscription* raw = nullptr;
  if (natsConnection_SubscribeSync(&raw, nc_.get(), (out.prefix + "*").c_str()) != NATS_OK)
    throw std::runtime_error("cannot subscribe the test inbox");
  out.sub.reset(raw);
  natsConnection_Flush(nc_.get());
  return out;
}

TempDir::TempDir() {
  path = (fs::temp_directory_path() / "natsfn-t-XXXXXX").string();
  if (mkdtemp(path.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
}

TempDir::~TempDir() {
  std::error_code ec;
  if (std::getenv("NATSFN_KEEP_TEST_DIRS") == nullptr) fs::remove_all(path, ec);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const std::string& path, const std::string& content, mode_t mode) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << content;
  if (::chmod(path.c_str(), mode) != 0)
    throw std::runtime_error("chmod " + path + ": " + std::strerror(errno));
}

void write_package(const std::string& dir, const std::map<std::string, std::string>& files,
                   const std::vector<std::string>& executable) {
  for (auto& [rel, content] : files) write_file((fs::path(dir) / rel).string(), content);
  for (auto& rel : executable)
    fs::permissions(fs::path(dir) / rel, fs::perms::owner_all | fs::perms::group_read |
                                             fs::perms::group_exec | fs::perms::others_read |
                                             fs::perms::others_exec);
}

}  // namespace natsfn::test
