#include "core/kv_follower.hpp"

#include <spdlog/spdlog.h>

namespace natsfn {

KvFollower::KvFollower(kvStore* kv, std::string bucket, KvFollowerCallbacks callbacks)
    : kv_(kv), bucket_(std::move(bucket)), callbacks_(std::move(callbacks)) {}

KvFollower::~KvFollower() { stop(); }

void KvFollower::start() {
  thread_ = std::thread([this] { run(); });
}

void KvFollower::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    if (current_ != nullptr) kvWatcher_Stop(current_);
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void KvFollower::pause(int ms) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stopping_.load(); });
}

void KvFollower::run() {
  std::set<std::string> live;  // keys reported as live and not deleted since
  bool announced = false;
  while (!stopping_) {
    kvWatcher* raw = nullptr;
    natsStatus s = kvStore_WatchAll(&raw, kv_, nullptr);
    if (s != NATS_OK) {
      spdlog::warn("watching {} failed: {}; retrying", bucket_, natsStatus_GetText(s));
      pause(500);
      continue;
    }
    KvWatcherPtr watcher(raw);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) break;
      current_ = raw;
    }
    std::set<std::string> seen;  // live keys of this watch's snapshot
    bool initial = true;
    while (!stopping_) {
      kvEntry* e = nullptr;
      s = kvWatcher_Next(&e, watcher.get(), 1000);
      if (s == NATS_TIMEOUT) continue;
      if (s != NATS_OK) break;
      if (e == nullptr) {
        // End of the current contents: anything we knew that is gone was deleted meanwhile.
        for (auto& key : live)
          if (!seen.count(key)) callbacks_.erase(key);
        live = std::move(seen);
        seen.clear();
        initial = false;
        if (!announced) {
          announced = true;
          if (callbacks_.loaded) callbacks_.loaded();
        }
        continue;
      }
      KvEntryPtr entry(e);
      std::string key = kvEntry_Key(e);
      if (kvEntry_Operation(e) != kvOp_Put) {
        live.erase(key);
        seen.erase(key);
        callbacks_.erase(key);
        continue;
      }
      std::string_view value(static_cast<const char*>(kvEntry_Value(e)),
                             static_cast<size_t>(kvEntry_ValueLen(e)));
      if (callbacks_.put(key, value)) (initial ? seen : live).insert(key);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      current_ = nullptr;
    }
    if (!stopping_) {
      spdlog::warn("watch on {} ended ({}); re-watching", bucket_, natsStatus_GetText(s));
      pause(250);
    }
  }
}

}  // namespace natsfn
