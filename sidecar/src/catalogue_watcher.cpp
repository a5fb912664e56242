#include "sidecar/src/catalogue_watcher.hpp"

#include <spdlog/spdlog.h>

#include <set>

namespace natsfn {

CatalogueWatcher::CatalogueWatcher(kvStore* functions, kvStore* bindings, LoopInbox& inbox,
                                   CatalogueEvents events)
    : functions_(functions), bindings_(bindings), inbox_(inbox), events_(std::move(events)) {}

CatalogueWatcher::~CatalogueWatcher() { stop(); }

void CatalogueWatcher::start() {
  threads_[0] = std::thread([this] { run(functions_, true); });
  threads_[1] = std::thread([this] { run(bindings_, false); });
}

void CatalogueWatcher::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (auto* w : current_)
      if (w != nullptr) kvWatcher_Stop(w);
  }
  cv_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void CatalogueWatcher::post_put(bool functions, const std::string& key, std::string value) {
  if (functions) {
    auto f = FunctionConfig::from_json(key, value);
    if (!f) {
      spdlog::warn("skipping malformed entry: {}", f.status().message());
      return;
    }
    inbox_.post([this, f = std::move(f).value()]() mutable { events_.function_put(std::move(f)); });
  } else {
    auto b = Binding::from_json(key, value);
    if (!b) {
      spdlog::warn("skipping malformed entry: {}", b.status().message());
      return;
    }
    inbox_.post([this, b = std::move(b).value()]() mutable { events_.binding_put(std::move(b)); });
  }
}

void CatalogueWatcher::post_delete(bool functions, const std::string& key) {
  if (functions)
    inbox_.post([this, key] { events_.function_deleted(key); });
  else
    inbox_.post([this, key] { events_.binding_deleted(key); });
}

void CatalogueWatcher::run(kvStore* kv, bool functions) {
  const int slot = functions ? 0 : 1;
  const char* bucket = functions ? "natsfn_functions" : "natsfn_bindings";
  std::set<std::string> live;  // keys we have told the loop about
  bool counted_loaded = false;
  while (!stopping_) {
    kvWatcher* raw = nullptr;
    natsStatus s = kvStore_WatchAll(&raw, kv, nullptr);
    if (s != NATS_OK) {
      spdlog::warn("watching {} failed: {}; retrying", bucket, natsStatus_GetText(s));
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(500), [this] { return stopping_.load(); });
      continue;
    }
    KvWatcherPtr watcher(raw);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) break;
      current_[slot] = raw;
    }
    std::set<std::string> seen;
    bool initial = true;
    while (!stopping_) {
      kvEntry* e = nullptr;
      s = kvWatcher_Next(&e, watcher.get(), 1000);
      if (s == NATS_TIMEOUT) continue;
      if (s != NATS_OK) break;
      if (e == nullptr) {
        // End of the current contents: anything we knew that is gone was deleted meanwhile.
        for (auto& key : live)
          if (!seen.count(key)) post_delete(functions, key);
        live = seen;
        initial = false;
        if (!counted_loaded) {
          counted_loaded = true;
          ++loaded_count_;
        }
        continue;
      }
      KvEntryPtr entry(e);
      std::string key = kvEntry_Key(e);
      if (kvEntry_Operation(e) == kvOp_Put) {
        (initial ? seen : live).insert(key);
        post_put(functions, key,
                 std::string(static_cast<const char*>(kvEntry_Value(e)),
                             static_cast<size_t>(kvEntry_ValueLen(e))));
      } else {
        live.erase(key);
        seen.erase(key);
        post_delete(functions, key);
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      current_[slot] = nullptr;
    }
    if (!stopping_) {
      spdlog::warn("watcher on {} ended ({}); re-watching", bucket, natsStatus_GetText(s));
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stopping_.load(); });
    }
  }
}

}  // namespace natsfn
