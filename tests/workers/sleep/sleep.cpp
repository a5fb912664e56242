// Test worker for the sidecar's timeout path: says ready, then never answers an invocation, so the
// only way out is the sidecar's deadline killing the process group.
#include <unistd.h>

#include <natsfn/function.hpp>

int main() {
  return natsfn::serve([](const natsfn::Event&, natsfn::Context&) -> natsfn::Response {
    std::fprintf(stderr, "sleeping forever\n");
    std::fflush(stderr);
    for (;;) ::pause();
  });
}
