#include "cli/cli_context.hpp"

namespace natsfn::cli {

void check(const Status& s) {
  if (!s) throw CliError(s.message());
}

natsConnection* CliContext::nc() {
  if (!nc_) {
    connection.apply_environment();
    connection.name = "natsfn-cli";
    nc_ = check(connect(connection));
  }
  return nc_.get();
}

Catalogue& CliContext::catalogue(bool create) {
  if (!catalogue_ || create) {
    catalogue_ = std::make_unique<Catalogue>(
        check(Catalogue::open(nc(), {.create = create, .replicas = replicas})));
  }
  return *catalogue_;
}

ObjectStore& CliContext::packages(bool create) {
  if (!packages_ || create) {
    ObjectStoreOptions o;
    o.replicas = replicas;
    packages_ = std::make_unique<ObjectStore>(check(ObjectStore::open(nc(), kPackagesBucket, create, o)));
  }
  return *packages_;
}

}  // namespace natsfn::cli
