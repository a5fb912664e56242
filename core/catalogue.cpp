#include "core/catalogue.hpp"

#include "core/names.hpp"

namespace natsfn {
namespace {

Status missing_bucket(const char* bucket) {
  return Status(Errc::not_found, std::string("bucket ") + bucket +
                                     " does not exist (run `natsfn deploy` or start a sidecar)");
}

Result<std::string> kv_get(kvStore* kv, const char* bucket, const std::string& key,
                           const std::string& what) {
  kvEntry* raw = nullptr;
  natsStatus s = kvStore_Get(&raw, kv, key.c_str());
  if (s == NATS_NOT_FOUND) return Status(Errc::not_found, what + " not found");
  if (s != NATS_OK) return nats_status(s, std::string("reading ") + bucket + " key '" + key + "'");
  KvEntryPtr e(raw);
  return std::string(static_cast<const char*>(kvEntry_Value(e.get())),
                     static_cast<size_t>(kvEntry_ValueLen(e.get())));
}

Status kv_put(kvStore* kv, const char* bucket, const std::string& key, const std::string& value) {
  uint64_t rev = 0;
  natsStatus s = kvStore_Put(&rev, kv, key.c_str(), value.data(), static_cast<int>(value.size()));
  return nats_status(s, std::string("writing ") + bucket + " key '" + key + "'");
}

Status kv_delete(kvStore* kv, const char* bucket, const std::string& key,
                 const std::string& what) {
  // Deleting an absent key would succeed silently in KV; say so instead.
  kvEntry* raw = nullptr;
  natsStatus s = kvStore_Get(&raw, kv, key.c_str());
  if (s == NATS_NOT_FOUND) return Status(Errc::not_found, what + " not found");
  if (s != NATS_OK) return nats_status(s, std::string("reading ") + bucket + " key '" + key + "'");
  kvEntry_Destroy(raw);
  return nats_status(kvStore_Delete(kv, key.c_str()),
                     std::string("deleting ") + bucket + " key '" + key + "'");
}

template <class T>
Result<Listing<T>> decode_all(kvStore* kv) {
  auto items = kv_snapshot(kv);
  if (!items) return items.status();
  Listing<T> out;
  for (auto& item : *items) {
    auto decoded = T::from_json(item.key, item.value);
    if (decoded)
      out.items.push_back(std::move(decoded).value());
    else
      out.problems.push_back(decoded.status());
  }
  return out;
}

}  // namespace

Result<KvStorePtr> open_kv_bucket(jsCtx* js, const char* bucket, CatalogueOptions options) {
  kvStore* raw = nullptr;
  natsStatus s = js_KeyValue(&raw, js, bucket);
  if (s == NATS_OK) return KvStorePtr(raw);
  if (s != NATS_NOT_FOUND) return nats_status(s, std::string("opening bucket ") + bucket);
  if (!options.create) return missing_bucket(bucket);
  kvConfig cfg;
  kvConfig_Init(&cfg);
  cfg.Bucket = bucket;
  cfg.History = 5;
  cfg.Replicas = options.replicas;
  s = js_CreateKeyValue(&raw, js, &cfg);
  if (s != NATS_OK) return nats_status(s, std::string("creating bucket ") + bucket);
  return KvStorePtr(raw);
}

Result<std::vector<KvItem>> kv_snapshot(kvStore* kv) {
  kvWatchOptions opts;
  kvWatchOptions_Init(&opts);
  opts.IgnoreDeletes = true;
  kvWatcher* raw = nullptr;
  natsStatus s = kvStore_WatchAll(&raw, kv, &opts);
  if (s != NATS_OK) return nats_status(s, std::string("listing bucket ") + kvStore_Bucket(kv));
  KvWatcherPtr watcher(raw);
  std::vector<KvItem> out;
  // The watcher delivers every current value, then a NULL entry marking the end of them.
  while (true) {
    kvEntry* e = nullptr;
    s = kvWatcher_Next(&e, watcher.get(), 5000);
    if (s != NATS_OK) return nats_status(s, std::string("listing bucket ") + kvStore_Bucket(kv));
    if (e == nullptr) break;
    KvEntryPtr entry(e);
    if (kvEntry_Operation(e) != kvOp_Put) continue;
    out.push_back({kvEntry_Key(e),
                   std::string(static_cast<const char*>(kvEntry_Value(e)),
                               static_cast<size_t>(kvEntry_ValueLen(e))),
                   kvEntry_Revision(e)});
  }
  return out;
}

Result<Catalogue> Catalogue::open(natsConnection* nc, CatalogueOptions options) {
  Catalogue c;
  jsCtx* js = nullptr;
  if (auto s = natsConnection_JetStream(&js, nc, nullptr); s != NATS_OK)
    return nats_status(s, "JetStream context");
  c.js_.reset(js);
  auto functions = open_kv_bucket(js, kFunctionsBucket, options);
  if (!functions) return functions.status();
  auto bindings = open_kv_bucket(js, kBindingsBucket, options);
  if (!bindings) return bindings.status();
  c.functions_ = std::move(functions).value();
  c.bindings_ = std::move(bindings).value();
  return c;
}

Status Catalogue::put_function(const FunctionConfig& f) {
  if (auto s = f.validate(); !s) return s;
  return kv_put(functions_.get(), kFunctionsBucket, f.name, f.to_json());
}

Result<FunctionConfig> Catalogue::get_function(const std::string& name) {
  if (auto s = validate_function_name(name); !s) return s;
  auto value = kv_get(functions_.get(), kFunctionsBucket, name, "function '" + name + "'");
  if (!value) return value.status();
  return FunctionConfig::from_json(name, *value);
}

Status Catalogue::delete_function(const std::string& name) {
  return kv_delete(functions_.get(), kFunctionsBucket, name, "function '" + name + "'");
}

Result<Listing<FunctionConfig>> Catalogue::list_functions() {
  return decode_all<FunctionConfig>(functions_.get());
}

Status Catalogue::put_binding(const Binding& b) {
  if (auto s = b.validate(); !s) return s;
  return kv_put(bindings_.get(), kBindingsBucket, b.key(), b.to_json());
}

Result<Binding> Catalogue::get_binding(const std::string& key) {
  auto value = kv_get(bindings_.get(), kBindingsBucket, key, "binding '" + key + "'");
  if (!value) return value.status();
  return Binding::from_json(key, *value);
}

Status Catalogue::delete_binding(const std::string& key) {
  return kv_delete(bindings_.get(), kBindingsBucket, key, "binding");
}

Result<Listing<Binding>> Catalogue::list_bindings() { return decode_all<Binding>(bindings_.get()); }

}  // namespace natsfn
