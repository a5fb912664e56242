// Test worker for the sidecar's crash path: dies with exit code 3 in the middle of an invocation,
// after leaving a line on stderr that the 502 reply should quote.
#include <unistd.h>

#include <natsfn/function.hpp>

int main() {
  return natsfn::serve([](const natsfn::Event&, natsfn::Context&) -> natsfn::Response {
    std::fprintf(stderr, "crash worker: about to exit with code 3\n");
    std::fflush(stderr);
    // _exit, not exit: the point is to vanish without a result frame or any cleanup.
    ::_exit(3);
  });
}
