// Test worker for the handler-error path: every invocation throws, which the SDK turns into
// {"ok":false,"error":{"type":"std::invalid_argument","message":"bad input: <payload>"}} while the
// worker stays warm for the next invocation.
#include <natsfn/function.hpp>
#include <stdexcept>

int main() {
  return natsfn::serve([](const natsfn::Event& ev, natsfn::Context&) -> natsfn::Response {
    throw std::invalid_argument("bad input: " + ev.payload);
  });
}
