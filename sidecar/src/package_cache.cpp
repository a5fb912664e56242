#include "sidecar/src/package_cache.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/object_store.hpp"
#include "core/package_archive.hpp"

namespace fs = std::filesystem;

namespace natsfn {
namespace {

// Digests are "SHA-256=<base64url>"; base64url is already file-name safe.
std::string digest_dir_name(const std::string& digest) {
  std::string b64 = digest.substr(digest.find('=') + 1);
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return "sha256-" + b64;
}

std::string read_small_file(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

}  // namespace

struct PackageCache::Fetch {
  uv_work_t req;
  PackageCache* cache;
  natsConnection* nc;
  std::string bucket;
  std::string package;
  std::string digest;
  std::string dir;
  std::string marker;
  std::string function;
  Status status;
};

PackageCache::PackageCache(uv_loop_t* loop, natsConnection* nc, std::string cache_dir,
                           std::string bucket)
    : loop_(loop), nc_(nc), dir_(std::move(cache_dir)), bucket_(std::move(bucket)) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) spdlog::error("cannot create cache dir {}: {}", dir_, ec.message());
  // Downloads and extractions interrupted by a crash leave temp siblings; nothing else uses them.
  for (auto it = fs::directory_iterator(dir_, ec); !ec && it != fs::directory_iterator(); ++it) {
    std::string name = it->path().filename().string();
    if (name.find(".download-") != std::string::npos || name.find(".tmp-") != std::string::npos) {
      std::error_code ignore;
      fs::remove_all(it->path(), ignore);
    }
  }
}

std::string PackageCache::package_dir(const std::string& digest) const {
  return dir_ + "/" + digest_dir_name(digest);
}
std::string PackageCache::marker_path(const std::string& digest) const {
  return package_dir(digest) + ".ok";
}

bool PackageCache::cached(const std::string& digest) const {
  return read_small_file(marker_path(digest)) == digest && fs::is_directory(package_dir(digest));
}

void PackageCache::ensure(const FunctionConfig& config, Done done) {
  if (cached(config.digest)) {
    done(package_dir(config.digest));
    return;
  }
  auto& waiters = waiting_[config.digest];
  waiters.push_back(std::move(done));
  if (waiters.size() > 1) return;  // a fetch for this digest is already under way

  auto* f = new Fetch{};
  f->req.data = f;
  f->cache = this;
  f->nc = nc_;
  f->bucket = bucket_;
  f->package = config.package;
  f->digest = config.digest;
  f->dir = package_dir(config.digest);
  f->marker = marker_path(config.digest);
  f->function = config.name;
  ++fetches_;
  uv_queue_work(loop_, &f->req, &PackageCache::work, &PackageCache::after_work);
}

// Thread pool: nothing here touches the cache object's loop-owned state.
void PackageCache::work(uv_work_t* req) {
  auto* f = static_cast<Fetch*>(req->data);
  auto fail = [&](Status s) { f->status = s.with_context("package '" + f->package + "'"); };
  auto store = ObjectStore::open(f->nc, f->bucket, false);
  if (!store) return fail(store.status());
  auto info = store->info(f->package);
  if (!info) return fail(info.status());
  if (info->digest != f->digest) {
    return fail(Status(Errc::bad_package, "the store holds digest " + info->digest +
                                              " but the function is pinned to " + f->digest +
                                              " (run `natsfn fn create` again to re-pin)"));
  }
  // A stale, unmarked tree is the remains of an interrupted extraction.
  std::error_code ec;
  fs::remove_all(f->dir, ec);
  fs::remove(f->marker, ec);
  std::string archive = f->dir + ".download-" + std::to_string(::getpid());
  auto got = store->get_to_file(f->package, archive);
  if (!got) return fail(got.status());
  if (got->digest != f->digest) {
    fs::remove(archive, ec);
    return fail(Status(Errc::digest_mismatch, "package changed while it was being fetched"));
  }
  auto extracted = extract_package(archive, f->dir);
  fs::remove(archive, ec);
  if (!extracted) return fail(extracted.status());
  std::ofstream(f->marker) << f->digest << "\n";
}

void PackageCache::after_work(uv_work_t* req, int) {
  std::unique_ptr<Fetch> f(static_cast<Fetch*>(req->data));
  PackageCache* self = f->cache;
  auto node = self->waiting_.extract(f->digest);
  if (node.empty()) return;
  Result<std::string> result = f->status.ok() ? Result<std::string>(f->dir)
                                              : Result<std::string>(f->status);
  if (f->status.ok())
    spdlog::info("[{}] package {} fetched and extracted ({})", f->function, f->package, f->digest);
  else
    spdlog::error("[{}] {}", f->function, f->status.message());
  for (auto& done : node.mapped()) done(result);
}

}  // namespace natsfn
