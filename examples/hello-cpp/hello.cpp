// The seed's function in C++: every invocation answers "hello" (5 bytes), so the telnet session in
// DESIGN works against a native worker too.
#include <natsfn/function.hpp>

int main() {
  return natsfn::serve(
      [](const natsfn::Event&, natsfn::Context&) { return natsfn::Response::text("hello"); });
}
