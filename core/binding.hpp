#pragma once
// A binding as stored in KV bucket natsfn_bindings: what routes traffic to a function.
//   {"type":"nats","subject":"myfunction.lambda","function":"myfunction"}
//   {"type":"http","path":"/things/{id}","methods":["GET"],"function":"things"}
// The key is derived from the binding itself, so binding the same subject twice replaces the
// first and `unbind -s SUBJECT` needs nothing but the subject.

#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace natsfn {

struct Binding {
  enum class Type { nats, http };
  Type type = Type::nats;
  std::string subject;               // nats
  std::string path;                  // http
  std::vector<std::string> methods;  // http; empty = any
  std::string function;

  static Binding nats(std::string subject, std::string function);
  static Binding http(std::string path, std::vector<std::string> methods, std::string function);

  std::string key() const;
  std::string target() const;  // subject or "METHODS path", for display
  Status validate() const;
  std::string to_json() const;
  static Result<Binding> from_json(std::string_view key, std::string_view json);

  bool operator==(const Binding&) const = default;
};

std::string nats_binding_key(std::string_view subject);
std::string http_binding_key(std::string_view path, const std::vector<std::string>& methods);

}  // namespace natsfn
