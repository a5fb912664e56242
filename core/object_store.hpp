#pragma once
// A JetStream Object Store client (ADR-20), since nats.c 3.4 has none. Buckets it creates and
// objects it writes are the ones nats.js v2, nats.go and `nats object` create and write, and it
// reads theirs. Objects stream through in 128 KiB chunks: neither put nor get holds a whole
// object, and every get verifies chunk count, size and SHA-256 before reporting success.
//
// An ObjectStore is used from one thread at a time. It borrows the connection, which must outlive
// it, and owns its JetStream context.

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "core/nats_handles.hpp"
#include "core/object_meta.hpp"
#include "core/status.hpp"

namespace natsfn {

inline constexpr const char* kPackagesBucket = "natsfn_packages";

// Called after each chunk with bytes done and the total (0 when a put's source has unknown size).
using Progress = std::function<void(uint64_t done, uint64_t total)>;

struct ObjectStoreOptions {
  int replicas = 1;            // stream replicas when this client creates the bucket
  int publish_window = 64;     // chunks in flight during a put
  int fetch_batch = 16;        // chunks per pull request during a get (bounds get's memory)
  int64_t timeout_ms = 10000;  // per JetStream API call / ack / fetch
};

class ObjectStore {
 public:
  // With `create`, makes the bucket's stream if it is missing; otherwise a missing bucket is
  // reported by get/info/list as not_found ("bucket <b> does not exist"). put always creates.
  static Result<ObjectStore> open(natsConnection* nc, std::string bucket, bool create,
                                  ObjectStoreOptions options = {});
  static Result<ObjectStore> open(natsConnection* nc, std::string bucket, bool create,
                                  int replicas) {
    ObjectStoreOptions o;
    o.replicas = replicas;
    return open(nc, std::move(bucket), create, o);
  }

  ObjectStore(ObjectStore&&) noexcept = default;
  ObjectStore& operator=(ObjectStore&&) noexcept = default;

  const std::string& bucket() const { return bucket_; }

  // Creates the bucket's stream with ADR-20's configuration if it does not exist.
  Status ensure_bucket();

  // Stores `in` under `name`. The new version becomes visible atomically when its meta record is
  // written; then the previous version's chunks are purged. On failure the partial chunks are
  // purged and the previous version stays intact.
  Result<ObjectInfo> put(const std::string& name, std::istream& in, const Progress& progress = {});
  Result<ObjectInfo> put_file(const std::string& name, const std::string& path,
                              const Progress& progress = {});

  // Streams the object to `out`, then verifies it. On a mismatch the bytes already written are
  // not trustworthy: the result is Errc::digest_mismatch.
  Result<ObjectInfo> get(const std::string& name, std::ostream& out, const Progress& progress = {});
  // Writes to `path`.tmp and renames it to `path` only after verification; on any failure
  // neither file is left behind.
  Result<ObjectInfo> get_to_file(const std::string& name, const std::string& path,
                                 const Progress& progress = {});

  Result<ObjectInfo> info(const std::string& name);
  // Live objects only, in stream order of their latest meta record.
  Result<std::vector<ObjectInfo>> list();
  // Marks the object deleted and purges its chunks; deleting a deleted object is a no-op.
  Status remove(const std::string& name);

 private:
  struct MetaRecord;

  ObjectStore() = default;
  Result<MetaRecord> fetch_meta(const std::string& name);
  Result<ObjectInfo> live_info(const std::string& name);
  Status purge_subject(const std::string& subject);
  Status publish_meta(const std::string& name, const std::string& json, uint64_t* revision);
  Status stream_chunks(const ObjectInfo& info, std::ostream& out, const Progress& progress);
  Status bucket_missing() const;

  natsConnection* nc_ = nullptr;
  JsCtxPtr js_;
  std::string bucket_;
  std::string stream_;
  ObjectStoreOptions options_;
  bool bucket_known_ = false;
};

}  // namespace natsfn
