#pragma once
// What every CLI verb shares: connection flags, --json, and lazily opened NATS handles. Verbs
// report failure by throwing CliError with one line naming what and why; main prints it and
// exits non-zero.

#include <memory>
#include <stdexcept>
#include <string>

#include "core/catalogue.hpp"
#include "core/connection.hpp"
#include "core/object_store.hpp"

namespace CLI {
class App;
}

namespace natsfn::cli {

struct CliError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Throws CliError with the status message when !s.
void check(const Status& s);
template <class T>
T check(Result<T> r) {
  if (!r) check(r.status());
  return std::move(r).value();
}

class CliContext {
 public:
  ConnectionConfig connection;
  bool json = false;
  int replicas = 1;

  natsConnection* nc();
  // create: make missing buckets (writers); readers report them missing.
  Catalogue& catalogue(bool create = false);
  ObjectStore& packages(bool create = false);

 private:
  ConnectionPtr nc_;
  std::unique_ptr<Catalogue> catalogue_;
  std::unique_ptr<ObjectStore> packages_;
};

// Packs a directory (tar.gz) or checks an archive, then stores it under `name` with progress.
ObjectInfo push_package(CliContext& ctx, const std::string& path, const std::string& name);
// The default package name for a path: a directory's name, or a file's name without extension.
std::string default_package_name(const std::string& path);

void add_package_commands(CLI::App& app, CliContext& ctx);
void add_function_commands(CLI::App& app, CliContext& ctx);
void add_binding_commands(CLI::App& app, CliContext& ctx);
void add_invoke_commands(CLI::App& app, CliContext& ctx);

}  // namespace natsfn::cli
