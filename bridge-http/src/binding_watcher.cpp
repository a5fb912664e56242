#include "bridge-http/src/binding_watcher.hpp"

#include <spdlog/spdlog.h>

namespace natsfn {

BindingWatcher::BindingWatcher(kvStore* bindings, LoopInbox& inbox, BindingEvents events)
    : inbox_(inbox),
      events_(std::move(events)),
      follower_(bindings, "natsfn_bindings", KvFollowerCallbacks{
          // Only http bindings are routes; the rest are not tracked as live.
          [this](const std::string& key, std::string_view value) {
            auto b = Binding::from_json(key, value);
            if (!b) {
              spdlog::warn("skipping malformed binding: {}", b.status().message());
              return false;
            }
            if (b->type != Binding::Type::http) return false;
            inbox_.post([this, b = std::move(b).value()]() mutable { events_.put(std::move(b)); });
            return true;
          },
          [this](const std::string& key) { inbox_.post([this, key] { events_.erase(key); }); },
          [this] { inbox_.post([this] { events_.loaded(); }); }}) {}

}  // namespace natsfn
