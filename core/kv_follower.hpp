#pragma once
// Follows one JetStream KV bucket live, for daemons that mirror it (the sidecar's catalogue, the
// bridge's routes). nats.c 3.4 only has the blocking kvWatcher_Next, so each follower owns a
// thread; the callbacks run on it and hand decoded changes to their own loop.
//
// The bucket's current contents arrive first, then `loaded` (once per follower), then changes as
// they happen. If the watch breaks (server restart, stream lost), it is re-created and the fresh
// snapshot is compared with the keys we reported as live, so a delete that happened meanwhile is
// still reported.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include "core/nats_handles.hpp"

namespace natsfn {

struct KvFollowerCallbacks {
  // A put. Returns whether the key now counts as live (a malformed or irrelevant entry does not,
  // so it is not reported as deleted when it disappears from a later snapshot).
  std::function<bool(const std::string& key, std::string_view value)> put;
  // A delete or purge, or a live key missing from a re-watch's snapshot.
  std::function<void(const std::string& key)> erase;
  // After the first complete snapshot. May be empty.
  std::function<void()> loaded;
};

class KvFollower {
 public:
  // bucket names the bucket in log lines.
  KvFollower(kvStore* kv, std::string bucket, KvFollowerCallbacks callbacks);
  ~KvFollower();  // stops and joins
  KvFollower(const KvFollower&) = delete;
  KvFollower& operator=(const KvFollower&) = delete;

  void start();
  // Any thread except the follower's own. Returns when its thread has exited.
  void stop();

 private:
  void run();
  // Waits up to `ms` unless stop() is called meanwhile.
  void pause(int ms);

  kvStore* kv_;
  std::string bucket_;
  KvFollowerCallbacks callbacks_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;  // guards current_ so stop() can interrupt kvWatcher_Next
  std::condition_variable cv_;
  kvWatcher* current_ = nullptr;
  std::thread thread_;
};

}  // namespace natsfn
