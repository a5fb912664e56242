#pragma once
// Packages on local disk, keyed by digest: <cache>/sha256-<digest>/ holds the extracted tree and
// <cache>/sha256-<digest>.ok marks it complete. Fetch and extraction run on libuv's thread pool
// (they block on the network and disk); everything else, including the waiter lists that make
// concurrent cold starts of one package share a single fetch, lives on the loop thread.

#include <uv.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/function_config.hpp"
#include "core/nats_handles.hpp"
#include "core/status.hpp"

namespace natsfn {

class PackageCache {
 public:
  using Done = std::function<void(const Result<std::string>& package_dir)>;

  PackageCache(uv_loop_t* loop, natsConnection* nc, std::string cache_dir, std::string bucket);

  // Loop thread. `done` runs on the loop thread, possibly before ensure() returns when cached.
  void ensure(const FunctionConfig& config, Done done);

  // For tests and stats: how many fetches hit the Object Store.
  uint64_t fetches() const { return fetches_; }
  const std::string& dir() const { return dir_; }

 private:
  struct Fetch;
  static void work(uv_work_t* req);
  static void after_work(uv_work_t* req, int status);

  std::string package_dir(const std::string& digest) const;
  std::string marker_path(const std::string& digest) const;
  bool cached(const std::string& digest) const;

  uv_loop_t* loop_;
  natsConnection* nc_;
  std::string dir_;
  std::string bucket_;
  uint64_t fetches_ = 0;
  std::map<std::string, std::vector<Done>> waiting_;  // digest → callers
};

}  // namespace natsfn
