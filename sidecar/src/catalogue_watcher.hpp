#pragma once
// Follows natsfn_functions and natsfn_bindings live. nats.c 3.4 only has the blocking
// kvWatcher_Next, so each bucket gets a thread; decoded changes are posted to the loop. A
// malformed entry is logged with its key and skipped. If a watcher breaks (server restart), it
// is re-created and the fresh snapshot is compared with what we knew, so deletes that happened
// meanwhile are not missed.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "core/binding.hpp"
#include "core/function_config.hpp"
#include "core/nats_handles.hpp"
#include "sidecar/src/loop_inbox.hpp"

namespace natsfn {

struct CatalogueEvents {
  // All run on the loop thread.
  std::function<void(FunctionConfig)> function_put;
  std::function<void(const std::string& name)> function_deleted;
  std::function<void(Binding)> binding_put;
  std::function<void(const std::string& key)> binding_deleted;
};

class CatalogueWatcher {
 public:
  CatalogueWatcher(kvStore* functions, kvStore* bindings, LoopInbox& inbox, CatalogueEvents events);
  ~CatalogueWatcher();  // stops and joins
  CatalogueWatcher(const CatalogueWatcher&) = delete;
  CatalogueWatcher& operator=(const CatalogueWatcher&) = delete;

  void start();
  // Any thread except a watcher thread. Returns when both threads have exited.
  void stop();
  // True once both buckets' current contents have been posted.
  bool loaded() const { return loaded_count_.load() == 2; }

 private:
  void run(kvStore* kv, bool functions);
  void post_put(bool functions, const std::string& key, std::string value);
  void post_delete(bool functions, const std::string& key);

  kvStore* functions_;
  kvStore* bindings_;
  LoopInbox& inbox_;
  CatalogueEvents events_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> loaded_count_{0};
  std::mutex mu_;  // guards the live watcher pointers so stop() can interrupt kvWatcher_Next
  std::condition_variable cv_;
  kvWatcher* current_[2] = {nullptr, nullptr};
  std::thread threads_[2];
};

}  // namespace natsfn
