#pragma once
// The control plane in JetStream KV: natsfn_functions (FunctionConfig by name) and
// natsfn_bindings (Binding by key). Calls block on the network; never call them on a loop thread.

#include <string>
#include <vector>

#include "core/binding.hpp"
#include "core/function_config.hpp"
#include "core/nats_handles.hpp"
#include "core/status.hpp"

namespace natsfn {

inline constexpr const char* kFunctionsBucket = "natsfn_functions";
inline constexpr const char* kBindingsBucket = "natsfn_bindings";

// A listing keeps going past bad entries: each one becomes a problem naming its key.
template <class T>
struct Listing {
  std::vector<T> items;
  std::vector<Status> problems;
};

struct CatalogueOptions {
  bool create = false;  // create missing buckets (history 5)
  int replicas = 1;
};

class Catalogue {
 public:
  // Borrows the connection; it must outlive the catalogue.
  static Result<Catalogue> open(natsConnection* nc, CatalogueOptions options = {});

  Status put_function(const FunctionConfig& f);
  Result<FunctionConfig> get_function(const std::string& name);
  Status delete_function(const std::string& name);
  Result<Listing<FunctionConfig>> list_functions();

  Status put_binding(const Binding& b);
  Result<Binding> get_binding(const std::string& key);
  Status delete_binding(const std::string& key);
  Result<Listing<Binding>> list_bindings();

  kvStore* functions() const { return functions_.get(); }
  kvStore* bindings() const { return bindings_.get(); }

 private:
  Catalogue() = default;
  JsCtxPtr js_;
  KvStorePtr functions_;
  KvStorePtr bindings_;
};

// Opens (and with create, creates) one KV bucket.
Result<KvStorePtr> open_kv_bucket(jsCtx* js, const char* bucket, CatalogueOptions options);

// Every live key/value in a bucket, in one pass of a watcher.
struct KvItem {
  std::string key;
  std::string value;
  uint64_t revision = 0;
};
Result<std::vector<KvItem>> kv_snapshot(kvStore* kv);

}  // namespace natsfn
