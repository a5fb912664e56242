#pragma once
// Follows natsfn_bindings live for the bridge: http bindings become routes. nats.c 3.4 only has
// the blocking kvWatcher_Next, so the watch runs on its own thread and posts decoded changes to
// the loop. A malformed entry is logged with its key and skipped. If the watch breaks (server
// restart), it is re-created and the fresh snapshot is compared with what we knew, so deletes
// that happened meanwhile are not missed.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "bridge-http/src/loop_inbox.hpp"
#include "core/binding.hpp"
#include "core/nats_handles.hpp"

namespace natsfn {

struct BindingEvents {
  // All run on the loop thread.
  std::function<void(Binding)> put;                   // http bindings only
  std::function<void(const std::string& key)> erase;  // any key that went away
  std::function<void()> loaded;                       // once, after the first full snapshot
};

class BindingWatcher {
 public:
  BindingWatcher(kvStore* bindings, LoopInbox& inbox, BindingEvents events);
  ~BindingWatcher();  // stops and joins
  BindingWatcher(const BindingWatcher&) = delete;
  BindingWatcher& operator=(const BindingWatcher&) = delete;

  void start();
  // Any thread except the watcher's own. Returns when the thread has exited.
  void stop();

 private:
  void run();

  kvStore* bindings_;
  LoopInbox& inbox_;
  BindingEvents events_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;  // guards current_ so stop() can interrupt kvWatcher_Next
  std::condition_variable cv_;
  kvWatcher* current_ = nullptr;
  std::thread thread_;
};

}  // namespace natsfn
