#include "bench/load/process_timing.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

extern char** environ;

namespace natsfn::bench {
namespace {

using Clock = std::chrono::steady_clock;

int64_t ns_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t).count();
}

bool read_full(int fd, char* buf, size_t n) {
  while (n > 0) {
    ssize_t r = read(fd, buf, n);
    if (r <= 0) return false;
    buf += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

}  // namespace

RunSamples time_spawn(const std::vector<std::string>& argv, int runs) {
  RunSamples samples;
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  auto start = Clock::now();
  for (int i = 0; i < runs; ++i) {
    auto t0 = Clock::now();
    pid_t pid = 0;
    if (posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ) != 0) {
      ++samples.errors;
      continue;
    }
    int status = 0;
    waitpid(pid, &status, 0);
    int64_t ns = ns_since(t0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
      samples.latencies_ns.push_back(ns);
    else
      ++samples.errors;
  }
  samples.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
  posix_spawn_file_actions_destroy(&actions);
  return samples;
}

RunSamples time_socketpair_rtt(size_t payload_size, int runs) {
  RunSamples samples;
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
    ++samples.errors;
    return samples;
  }
  pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    std::string buf(payload_size, '\0');
    while (read_full(fds[1], buf.data(), buf.size()))
      if (write(fds[1], buf.data(), buf.size()) != static_cast<ssize_t>(buf.size())) break;
    _exit(0);
  }
  close(fds[1]);
  std::string buf(payload_size, 'x');
  auto start = Clock::now();
  for (int i = 0; i < runs; ++i) {
    auto t0 = Clock::now();
    if (write(fds[0], buf.data(), buf.size()) != static_cast<ssize_t>(buf.size()) ||
        !read_full(fds[0], buf.data(), buf.size())) {
      ++samples.errors;
      break;
    }
    samples.latencies_ns.push_back(ns_since(t0));
  }
  samples.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
  close(fds[0]);
  waitpid(child, nullptr, 0);
  return samples;
}

}  // namespace natsfn::bench
