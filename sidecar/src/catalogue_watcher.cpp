#include "sidecar/src/catalogue_watcher.hpp"

#include <spdlog/spdlog.h>

namespace natsfn {
namespace {

// Decodes an entry (FunctionConfig or Binding) and hands it to the loop; a malformed one is
// logged and skipped. Every key counts as live, malformed or not: a key that later disappears is
// reported deleted, and the loop ignores names it never loaded.
template <class Entry, class Deliver>
bool post_decoded(LoopInbox& inbox, const std::string& key, std::string_view value,
                  Deliver deliver) {
  auto entry = Entry::from_json(key, value);
  if (!entry) {
    spdlog::warn("skipping malformed entry: {}", entry.status().message());
    return true;
  }
  inbox.post([deliver, e = std::move(entry).value()]() mutable { deliver(std::move(e)); });
  return true;
}

}  // namespace

CatalogueWatcher::CatalogueWatcher(kvStore* functions, kvStore* bindings, LoopInbox& inbox,
                                   CatalogueEvents events)
    : inbox_(inbox), events_(std::move(events)) {
  functions_ = std::make_unique<KvFollower>(functions, "natsfn_functions", KvFollowerCallbacks{
      [this](const std::string& key, std::string_view value) {
        return post_decoded<FunctionConfig>(inbox_, key, value, [this](FunctionConfig f) {
          events_.function_put(std::move(f));
        });
      },
      [this](const std::string& key) { inbox_.post([this, key] { events_.function_deleted(key); }); },
      [this] {
        // Posted after the snapshot's puts: the loop runs it once they are all applied.
        inbox_.post([this] {
          if (events_.functions_loaded) events_.functions_loaded();
        });
      }});
  bindings_ = std::make_unique<KvFollower>(bindings, "natsfn_bindings", KvFollowerCallbacks{
      [this](const std::string& key, std::string_view value) {
        return post_decoded<Binding>(inbox_, key, value,
                                     [this](Binding b) { events_.binding_put(std::move(b)); });
      },
      [this](const std::string& key) { inbox_.post([this, key] { events_.binding_deleted(key); }); },
      nullptr});
}

CatalogueWatcher::~CatalogueWatcher() { stop(); }

void CatalogueWatcher::start() {
  functions_->start();
  bindings_->start();
}

void CatalogueWatcher::stop() {
  functions_->stop();
  bindings_->stop();
}

}  // namespace natsfn
