#include "bridge-http/src/binding_watcher.hpp"

#include <spdlog/spdlog.h>

#include <set>

namespace natsfn {

BindingWatcher::BindingWatcher(kvStore* bindings, LoopInbox& inbox, BindingEvents events)
    : bindings_(bindings), inbox_(inbox), events_(std::move(events)) {}

BindingWatcher::~BindingWatcher() { stop(); }

void BindingWatcher::start() {
  thread_ = std::thread([this] { run(); });
}

void BindingWatcher::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    if (current_ != nullptr) kvWatcher_Stop(current_);
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BindingWatcher::run() {
  std::set<std::string> live;  // keys we have told the loop about
  bool announced = false;
  while (!stopping_) {
    kvWatcher* raw = nullptr;
    natsStatus s = kvStore_WatchAll(&raw, bindings_, nullptr);
    if (s != NATS_OK) {
      spdlog::warn("watching natsfn_bindings failed: {}; retrying", natsStatus_GetText(s));
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(500), [this] { return stopping_.load(); });
      continue;
    }
    KvWatcherPtr watcher(raw);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) break;
      current_ = raw;
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
          if (!seen.count(key)) inbox_.post([this, key] { events_.erase(key); });
        live = seen;
        initial = false;
        if (!announced) {
          announced = true;
          inbox_.post([this] { events_.loaded(); });
        }
        continue;
      }
      KvEntryPtr entry(e);
      std::string key = kvEntry_Key(e);
      if (kvEntry_Operation(e) != kvOp_Put) {
        live.erase(key);
        seen.erase(key);
        inbox_.post([this, key] { events_.erase(key); });
        continue;
      }
      auto b = Binding::from_json(key, std::string_view(static_cast<const char*>(kvEntry_Value(e)),
                                                        static_cast<size_t>(kvEntry_ValueLen(e))));
      if (!b) {
        spdlog::warn("skipping malformed binding: {}", b.status().message());
        continue;
      }
      if (b->type != Binding::Type::http) continue;
      (initial ? seen : live).insert(key);
      inbox_.post([this, b = std::move(b).value()]() mutable { events_.put(std::move(b)); });
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      current_ = nullptr;
    }
    if (!stopping_) {
      spdlog::warn("watch on natsfn_bindings ended ({}); re-watching", natsStatus_GetText(s));
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stopping_.load(); });
    }
  }
}

}  // namespace natsfn
