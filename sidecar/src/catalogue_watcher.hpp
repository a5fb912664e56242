#pragma once
// Follows natsfn_functions and natsfn_bindings live (one core/kv_follower thread per bucket) and
// posts decoded changes to the loop. A malformed entry is logged with its key and skipped.

#include <functional>
#include <memory>
#include <string>

#include "core/binding.hpp"
#include "core/function_config.hpp"
#include "core/kv_follower.hpp"
#include "sidecar/src/loop_inbox.hpp"

namespace natsfn {

struct CatalogueEvents {
  // All run on the loop thread.
  std::function<void(FunctionConfig)> function_put;
  std::function<void(const std::string& name)> function_deleted;
  std::function<void(Binding)> binding_put;
  std::function<void(const std::string& key)> binding_deleted;
  // Once, after every function of the first snapshot has been delivered.
  std::function<void()> functions_loaded;
};

class CatalogueWatcher {
 public:
  CatalogueWatcher(kvStore* functions, kvStore* bindings, LoopInbox& inbox, CatalogueEvents events);
  ~CatalogueWatcher();  // stops and joins
  CatalogueWatcher(const CatalogueWatcher&) = delete;
  CatalogueWatcher& operator=(const CatalogueWatcher&) = delete;

  void start();
  // Any thread except a follower thread. Returns when both threads have exited.
  void stop();

 private:
  LoopInbox& inbox_;
  CatalogueEvents events_;
  std::unique_ptr<KvFollower> functions_;
  std::unique_ptr<KvFollower> bindings_;
};

}  // namespace natsfn
