// natsfn-worker-launch: the first thing every worker process runs; it sets up what only the child
// itself can, then execs the runtime.
//
//   natsfn-worker-launch <sidecar-pid> <program> [args...]
//
// - PR_SET_PDEATHSIG(SIGKILL): workers run in their own session (so a timeout can kill the whole
//   group), which also means nothing stops them when the sidecar dies without cleaning up (OOM
//   kill, SIGKILL, crash). A worker stuck in a handler would run on forever; this way the kernel
//   kills it with the sidecar. libuv's spawn has no hook in the child, hence this program.
// - RLIMIT_CORE 0: a crashing handler must not write core files into the package cache.
//
// libc only, so it adds little to a cold start (one more execve, ~0.3 ms here).
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: natsfn-worker-launch <sidecar-pid> <program> [args...]\n"
                         "(started by natsfn-sidecar, not by hand)\n");
    return 127;
  }
  char* end = nullptr;
  long sidecar = std::strtol(argv[1], &end, 10);
  if (end == argv[1] || *end != '\0' || sidecar <= 1) {
    std::fprintf(stderr, "natsfn-worker-launch: bad sidecar pid '%s'\n", argv[1]);
    return 127;
  }
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
    std::fprintf(stderr, "natsfn-worker-launch: prctl: %s\n", std::strerror(errno));
    return 127;
  }
  // The sidecar may have died before the prctl: then nobody will ever send the signal.
  if (::getppid() != static_cast<pid_t>(sidecar)) return 127;
  rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  ::execv(argv[2], argv + 2);
  std::fprintf(stderr, "natsfn-worker-launch: cannot run %s: %s\n", argv[2], std::strerror(errno));
  return 127;
}
