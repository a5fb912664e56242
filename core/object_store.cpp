#include "core/object_store.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <istream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <vector>

#include "core/base64url.hpp"
#include "core/chunk_publisher.hpp"
#include "core/connection.hpp"
#include "core/sha256.hpp"

namespace natsfn {

struct ObjectStore::MetaRecord {
  ObjectInfo info;
  std::string json;  // the record as stored, so a rewrite keeps fields other clients added
};

namespace {

using ConsumerInfoPtr = std::unique_ptr<jsConsumerInfo, CDeleter<jsConsumerInfo_Destroy>>;
using PubAckPtr = std::unique_ptr<jsPubAck, CDeleter<jsPubAck_Destroy>>;
using MetaDataPtr = std::unique_ptr<jsMsgMetaData, CDeleter<jsMsgMetaData_Destroy>>;

// natsMsgList is a plain struct owning its messages; this gives it a destructor.
struct MsgList {
  natsMsgList list{nullptr, 0};
  ~MsgList() { natsMsgList_Destroy(&list); }
};

Status not_found(const std::string& name, const std::string& bucket) {
  return Status(Errc::not_found, "object '" + name + "' not found in bucket " + bucket);
}

Status mismatch(const std::string& name, const std::string& what) {
  return Status(Errc::digest_mismatch, "package '" + name + "': " + what);
}

// Object ids are NUIDs; nats.c keeps its generator private but inboxes are `_INBOX.<nuid>`.
Result<std::string> new_nuid() {
  auto inbox = new_inbox();
  if (!inbox) return inbox.status();
  return inbox->substr(inbox->find('.') + 1);
}

// Bytes the caller's stream holds from its current position, or 0 when it cannot seek.
uint64_t remaining_size(std::istream& in) {
  auto* buf = in.rdbuf();
  if (buf == nullptr) return 0;
  auto here = buf->pubseekoff(0, std::ios::cur, std::ios::in);
  if (here == std::streampos(-1)) return 0;
  auto end = buf->pubseekoff(0, std::ios::end, std::ios::in);
  buf->pubseekpos(here, std::ios::in);
  return end > here ? static_cast<uint64_t>(end - here) : 0;
}

// A pull consumer's messages carry how many remain after them in their reply subject.
Result<uint64_t> num_pending(natsMsg* msg) {
  jsMsgMetaData* raw = nullptr;
  if (auto s = natsMsg_GetMetaData(&raw, msg); s != NATS_OK) {
    return nats_status(s, "reading JetStream message metadata");
  }
  MetaDataPtr meta(raw);
  return meta->NumPending;
}

// Creates an ephemeral, unacknowledged pull consumer on `subject` and returns it with the number
// of messages it will deliver.
Result<std::pair<SubscriptionPtr, uint64_t>> pull_consumer(jsCtx* js, const std::string& stream,
                                                           const std::string& subject,
                                                           jsDeliverPolicy policy,
                                                           int64_t timeout_ms) {
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = timeout_ms;
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream.c_str();
  so.Config.AckPolicy = js_AckNone;
  so.Config.DeliverPolicy = policy;
  // If this process dies mid-read the server drops the consumer on its own.
  so.Config.InactiveThreshold = int64_t{60} * 1'000'000'000;
  natsSubscription* raw = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  if (auto s = js_PullSubscribe(&raw, js, subject.c_str(), nullptr, &jo, &so, &jerr);
      s != NATS_OK) {
    return nats_status(s, "creating consumer on " + subject);
  }
  SubscriptionPtr sub(raw);
  jsConsumerInfo* ci_raw = nullptr;
  if (auto s = natsSubscription_GetConsumerInfo(&ci_raw, sub.get(), &jo, &jerr); s != NATS_OK) {
    return nats_status(s, "reading consumer info for " + subject);
  }
  ConsumerInfoPtr ci(ci_raw);
  return std::make_pair(std::move(sub), ci->NumPending);
}

// Fetches up to `want` messages; an empty answer within the deadline is a timeout.
Status fetch(MsgList& batch, natsSubscription* sub, int want, int64_t timeout_ms) {
  jsFetchRequest req;
  jsFetchRequest_Init(&req);
  req.Batch = want;
  req.Expires = timeout_ms * 1'000'000;
  auto s = natsSubscription_FetchRequest(&batch.list, sub, &req);
  if (s != NATS_OK) return nats_status(s, "fetching from JetStream");
  return Status::OK();
}

void unsubscribe(SubscriptionPtr& sub) {
  // Unsubscribing a library-created consumer deletes it on the server right away instead of
  // waiting for its inactivity threshold.
  if (sub) natsSubscription_Unsubscribe(sub.get());
}

}  // namespace

Result<ObjectStore> ObjectStore::open(natsConnection* nc, std::string bucket, bool create,
                                      ObjectStoreOptions options) {
  if (nc == nullptr) return Status(Errc::invalid_argument, "object store: no connection");
  if (!valid_bucket_name(bucket)) {
    return Status(Errc::invalid_argument,
                  "invalid bucket name '" + bucket + "': use letters, digits, '-' and '_'");
  }
  ObjectStore os;
  os.nc_ = nc;
  os.bucket_ = std::move(bucket);
  os.stream_ = object_stream_name(os.bucket_);
  os.options_ = options;
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = options.timeout_ms;
  jsCtx* js = nullptr;
  if (auto s = natsConnection_JetStream(&js, nc, &jo); s != NATS_OK) {
    return nats_status(s, "opening JetStream context");
  }
  os.js_.reset(js);
  if (create) {
    if (auto st = os.ensure_bucket(); !st) return st;
  }
  return os;
}

Status ObjectStore::bucket_missing() const {
  return Status(Errc::not_found, "bucket " + bucket_ + " does not exist");
}

Status ObjectStore::ensure_bucket() {
  if (bucket_known_) return Status::OK();
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  auto s = js_GetStreamInfo(&si, js_.get(), stream_.c_str(), nullptr, &jerr);
  StreamInfoPtr info(si);
  if (s == NATS_OK) {
    bucket_known_ = true;
    return Status::OK();
  }
  if (s != NATS_NOT_FOUND) return nats_status(s, "looking up bucket " + bucket_);
  // The configuration nats.js v2's ObjectStoreImpl.init and ADR-20 give a new bucket.
  std::string chunks = chunk_subject_all(bucket_);
  std::string metas = meta_subject_all(bucket_);
  const char* subjects[] = {chunks.c_str(), metas.c_str()};
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = stream_.c_str();
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 2;
  cfg.Storage = js_FileStorage;
  cfg.Discard = js_DiscardNew;
  cfg.Replicas = options_.replicas;
  cfg.AllowRollup = true;
  cfg.AllowDirect = true;
  si = nullptr;
  s = js_AddStream(&si, js_.get(), &cfg, nullptr, &jerr);
  info.reset(si);
  // Another client may have created it between our lookup and our create; that is success.
  if (s != NATS_OK && jerr != JSStreamNameExistErr) {
    return nats_status(s, "creating bucket " + bucket_);
  }
  bucket_known_ = true;
  return Status::OK();
}

Result<ObjectStore::MetaRecord> ObjectStore::fetch_meta(const std::string& name) {
  if (name.empty()) return Status(Errc::invalid_argument, "object name must not be empty");
  std::string subject = meta_subject(bucket_, name);
  natsMsg* raw = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  auto s = js_GetLastMsg(&raw, js_.get(), stream_.c_str(), subject.c_str(), nullptr, &jerr);
  MsgPtr msg(raw);
  if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr || jerr == JSNoMessageFoundErr) {
    if (jerr == JSStreamNotFoundErr) return bucket_missing();
    return not_found(name, bucket_);
  }
  if (s != NATS_OK) return nats_status(s, "reading metadata of object '" + name + "'");
  MetaRecord rec;
  rec.json.assign(natsMsg_GetData(msg.get()), natsMsg_GetDataLength(msg.get()));
  auto info = decode_object_info(rec.json, name, bucket_);
  if (!info) return info.status();
  rec.info = std::move(info).value();
  rec.info.revision = natsMsg_GetSequence(msg.get());
  if (rec.info.mtime.empty()) rec.info.mtime = rfc3339_from_nanos(natsMsg_GetTime(msg.get()));
  return rec;
}

Result<ObjectInfo> ObjectStore::live_info(const std::string& name) {
  auto rec = fetch_meta(name);
  if (!rec) return rec.status();
  // ADR-20: a deleted object is treated exactly like one that never existed.
  if (rec->info.deleted) return not_found(name, bucket_);
  return std::move(rec->info);
}

Result<ObjectInfo> ObjectStore::info(const std::string& name) { return live_info(name); }

Status ObjectStore::purge_subject(const std::string& subject) {
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = options_.timeout_ms;
  jo.Stream.Purge.Subject = subject.c_str();
  jsErrCode jerr = static_cast<jsErrCode>(0);
  auto s = js_PurgeStream(js_.get(), stream_.c_str(), &jo, &jerr);
  return nats_status(s, "purging " + subject);
}

Status ObjectStore::publish_meta(const std::string& name, const std::string& json,
                                 uint64_t* revision) {
  std::string subject = meta_subject(bucket_, name);
  natsMsg* raw = nullptr;
  if (auto s = natsMsg_Create(&raw, subject.c_str(), nullptr, json.data(),
                              static_cast<int>(json.size()));
      s != NATS_OK) {
    return nats_status(s, "building metadata of object '" + name + "'");
  }
  MsgPtr msg(raw);
  // Rolling up the subject leaves exactly one meta record per object in the stream.
  natsMsgHeader_Set(msg.get(), "Nats-Rollup", "sub");
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.ExpectStream = stream_.c_str();
  po.MaxWait = options_.timeout_ms;
  jsPubAck* ack_raw = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  auto s = js_PublishMsg(&ack_raw, js_.get(), msg.get(), &po, &jerr);
  PubAckPtr ack(ack_raw);
  if (s != NATS_OK) return nats_status(s, "writing metadata of object '" + name + "'");
  if (revision != nullptr) *revision = ack->Sequence;
  return Status::OK();
}

Result<ObjectInfo> ObjectStore::put(const std::string& name, std::istream& in,
                                    const Progress& progress) {
  if (name.empty()) return Status(Errc::invalid_argument, "object name must not be empty");
  if (auto st = ensure_bucket(); !st) return st;
  auto old = fetch_meta(name);
  if (!old && old.status().code() != Errc::not_found) return old.status();

  auto nuid = new_nuid();
  if (!nuid) return nuid.status();
  ObjectInfo info;
  info.name = name;
  info.bucket = bucket_;
  info.nuid = *nuid;
  int64_t max_payload = natsConnection_GetMaxPayload(nc_);
  info.max_chunk_size = static_cast<uint32_t>(
      max_payload > 0 ? std::min<int64_t>(kDefaultChunkSize, max_payload) : kDefaultChunkSize);
  std::string subject = chunk_subject(bucket_, info.nuid);

  auto pub =
      ChunkPublisher::start(nc_, subject, stream_, options_.publish_window, options_.timeout_ms);
  if (!pub) return pub.status();
  // Whatever goes wrong from here, no half-written version may stay behind.
  auto fail = [&](const Status& st) -> Status {
    pub->settle();
    if (auto purged = purge_subject(subject); !purged) {
      spdlog::warn("object '{}': could not purge partial chunks: {}", name, purged.message());
    }
    return st;
  };

  uint64_t total = remaining_size(in);
  Sha256 sha;
  std::vector<char> buf(info.max_chunk_size);
  while (true) {
    size_t got = 0;
    // A chunk is filled completely before it is sent, so every chunk but the last is full size
    // whatever sizes the source's reads return.
    while (got < buf.size() && in.good()) {
      in.read(buf.data() + got, static_cast<std::streamsize>(buf.size() - got));
      got += static_cast<size_t>(in.gcount());
    }
    if (in.bad()) return fail(Status(Errc::io, "object '" + name + "': reading source failed"));
    if (got > 0) {
      sha.update(buf.data(), got);
      if (auto st = pub->publish(buf.data(), got); !st) return fail(st);
      info.size += got;
      ++info.chunks;
      if (progress) progress(info.size, std::max(total, info.size));
    }
    if (got < buf.size()) break;
  }
  if (auto st = pub->finish(); !st) return fail(st);

  info.mtime = rfc3339_now();
  info.digest = format_digest(sha.finish());
  if (auto st = publish_meta(name, encode_object_info(info), &info.revision); !st) {
    return fail(st);
  }
  if (old && old->info.nuid != info.nuid && !old->info.nuid.empty()) {
    // The new version is live; failing to drop the old chunks only wastes space.
    if (auto st = purge_subject(chunk_subject(bucket_, old->info.nuid)); !st) {
      spdlog::warn("object '{}': old version's chunks not purged: {}", name, st.message());
    }
  }
  if (progress && info.size == 0) progress(0, 0);
  return info;
}

Result<ObjectInfo> ObjectStore::put_file(const std::string& name, const std::string& path,
                                         const Progress& progress) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(Errc::io, "cannot open '" + path + "' for reading");
  return put(name, in, progress);
}

Status ObjectStore::stream_chunks(const ObjectInfo& info, std::ostream& out,
                                  const Progress& progress) {
  auto consumer = pull_consumer(js_.get(), stream_, chunk_subject(bucket_, info.nuid),
                                js_DeliverAll, options_.timeout_ms);
  if (!consumer) return consumer.status();
  auto& [sub, available] = *consumer;
  struct Unsub {
    SubscriptionPtr& s;
    ~Unsub() { unsubscribe(s); }
  } unsub{sub};
  if (available != info.chunks) {
    return mismatch(info.name, "chunk count mismatch: expected " + std::to_string(info.chunks) +
                                   " got " + std::to_string(available));
  }
  Sha256 sha;
  uint64_t size = 0;
  uint64_t received = 0;
  while (received < info.chunks) {
    int want = static_cast<int>(
        std::min<uint64_t>(static_cast<uint64_t>(options_.fetch_batch), info.chunks - received));
    MsgList batch;
    if (auto st = fetch(batch, sub.get(), want, options_.timeout_ms); !st) {
      return st.with_context("reading object '" + info.name + "'");
    }
    for (int i = 0; i < batch.list.Count; ++i) {
      natsMsg* m = batch.list.Msgs[i];
      auto len = static_cast<uint64_t>(natsMsg_GetDataLength(m));
      size += len;
      ++received;
      if (size > info.size) {
        return mismatch(
            info.name, "size mismatch: expected " + std::to_string(info.size) + " bytes, got more");
      }
      sha.update(natsMsg_GetData(m), len);
      out.write(natsMsg_GetData(m), static_cast<std::streamsize>(len));
      if (!out) return Status(Errc::io, "object '" + info.name + "': writing output failed");
      if (progress) progress(size, info.size);
    }
  }
  if (size != info.size) {
    return mismatch(info.name, "size mismatch: expected " + std::to_string(info.size) +
                                   " bytes got " + std::to_string(size));
  }
  std::string got = format_digest(sha.finish());
  if (parse_digest(got) != parse_digest(info.digest)) {
    return mismatch(info.name, "digest mismatch: expected " + info.digest + " got " + got);
  }
  return Status::OK();
}

Result<ObjectInfo> ObjectStore::get(const std::string& name, std::ostream& out,
                                    const Progress& progress) {
  auto info = live_info(name);
  if (!info) return info.status();
  if (info->chunks == 0) {
    // Nothing to fetch, but the record must still describe an empty object.
    std::string got = format_digest(Sha256::of({}));
    if (info->size != 0 || parse_digest(got) != parse_digest(info->digest)) {
      return mismatch(name, "digest mismatch: expected " + info->digest + " got " + got);
    }
    if (progress) progress(0, 0);
    return info;
  }
  if (auto st = stream_chunks(*info, out, progress); !st) return st;
  out.flush();
  if (!out) return Status(Errc::io, "object '" + name + "': writing output failed");
  return info;
}

Result<ObjectInfo> ObjectStore::get_to_file(const std::string& name, const std::string& path,
                                            const Progress& progress) {
  std::string tmp = path + ".tmp";
  Result<ObjectInfo> result = Status(Errc::internal, "unreachable");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Status(Errc::io, "cannot open '" + tmp + "' for writing");
    result = get(name, out, progress);
    out.close();
    if (result && !out) result = Status(Errc::io, "writing '" + tmp + "' failed");
  }
  std::error_code ec;
  if (!result) {
    std::filesystem::remove(tmp, ec);
    return result;
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return Status(Errc::io, "cannot rename '" + tmp + "' to '" + path + "': " + ec.message());
  }
  return result;
}

Result<std::vector<ObjectInfo>> ObjectStore::list() {
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  auto s = js_GetStreamInfo(&si, js_.get(), stream_.c_str(), nullptr, &jerr);
  StreamInfoPtr stream_info(si);
  if (s == NATS_NOT_FOUND) return bucket_missing();
  if (s != NATS_OK) return nats_status(s, "looking up bucket " + bucket_);

  std::vector<ObjectInfo> out;
  auto consumer = pull_consumer(js_.get(), stream_, meta_subject_all(bucket_),
                                js_DeliverLastPerSubject, options_.timeout_ms);
  if (!consumer) return consumer.status();
  auto& [sub, pending] = *consumer;
  struct Unsub {
    SubscriptionPtr& s;
    ~Unsub() { unsubscribe(s); }
  } unsub{sub};
  const std::string prefix = "$O." + bucket_ + ".M.";
  // `pending` shrinks as messages arrive; records written meanwhile extend the listing.
  while (pending > 0) {
    MsgList batch;
    int want = static_cast<int>(std::min<uint64_t>(256, pending));
    if (auto st = fetch(batch, sub.get(), want, options_.timeout_ms); !st) {
      return st.with_context("listing bucket " + bucket_);
    }
    for (int i = 0; i < batch.list.Count; ++i) {
      natsMsg* m = batch.list.Msgs[i];
      auto left = num_pending(m);
      if (!left) return left.status();
      pending = *left;
      std::string subject = natsMsg_GetSubject(m);
      auto name = base64url_decode(std::string_view(subject).substr(prefix.size()));
      std::string label = name ? *name : subject;
      auto info = decode_object_info(
          {natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m))}, label, bucket_);
      if (!info) {
        // One bad record must not hide the rest of the catalogue.
        spdlog::warn("{}; skipped in listing", info.status().message());
        continue;
      }
      if (info->deleted) continue;
      info->revision = natsMsg_GetSequence(m);
      if (info->mtime.empty()) info->mtime = rfc3339_from_nanos(natsMsg_GetTime(m));
      out.push_back(std::move(info).value());
    }
  }
  return out;
}

Status ObjectStore::remove(const std::string& name) {
  auto rec = fetch_meta(name);
  if (!rec) return rec.status();
  if (rec->info.deleted) return Status::OK();
  // Rewrite the stored record rather than our model of it, so fields we do not know survive.
  auto j = nlohmann::ordered_json::parse(rec->json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) j = nlohmann::ordered_json::object();
  j["deleted"] = true;
  j["size"] = 0;
  j["chunks"] = 0;
  j["digest"] = "";
  if (auto st = publish_meta(name, j.dump(), nullptr); !st) return st;
  if (!rec->info.nuid.empty()) return purge_subject(chunk_subject(bucket_, rec->info.nuid));
  return Status::OK();
}

}  // namespace natsfn
