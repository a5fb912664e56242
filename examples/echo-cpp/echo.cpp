// Returns the request's payload unchanged. Binary-safe: the payload is bytes, not a C string.
#include <natsfn/function.hpp>

int main() {
  return natsfn::serve([](const natsfn::Event& ev, natsfn::Context&) {
    return natsfn::Response::bytes(ev.payload);
  });
}
