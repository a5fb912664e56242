// Test worker for the sidecar's init-failure path: init throws, so the SDK sends
// {"t":"init_error","type":"std::runtime_error","message":"config missing: NATSFN_TEST_CONFIG"}
// instead of ready, and exits 1.
#include <natsfn/function.hpp>
#include <stdexcept>

int main() {
  return natsfn::serve(
      [] {
        std::fprintf(stderr, "init-error worker: loading config\n");
        throw std::runtime_error("config missing: NATSFN_TEST_CONFIG");
      },
      [](const natsfn::Event&, natsfn::Context&) { return natsfn::Response::text("unreachable"); });
}
