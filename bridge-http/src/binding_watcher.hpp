#pragma once
// Follows natsfn_bindings live for the bridge (a core/kv_follower thread): http bindings become
// routes, posted to the loop. A malformed entry is logged with its key and skipped.

#include <functional>
#include <string>

#include "bridge-http/src/loop_inbox.hpp"
#include "core/binding.hpp"
#include "core/kv_follower.hpp"

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
  BindingWatcher(const BindingWatcher&) = delete;
  BindingWatcher& operator=(const BindingWatcher&) = delete;

  void start() { follower_.start(); }
  // Any thread except the follower's own. Returns when its thread has exited.
  void stop() { follower_.stop(); }

 private:
  LoopInbox& inbox_;
  BindingEvents events_;
  KvFollower follower_;  // last: its thread uses the members above
};

}  // namespace natsfn
