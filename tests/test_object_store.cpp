#include <stdlib.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <streambuf>

#include "core/base64url.hpp"
#include "core/connection.hpp"
#include "core/object_store.hpp"
#include "tests/support/nats_server.hpp"
#include "tests/support/processes.hpp"

using namespace natsfn;
using natsfn::test::read_file;
using natsfn::test::write_file;
namespace fs = std::filesystem;

namespace {

constexpr size_t kChunk = 128 * 1024;
// Empty, one byte, exactly one chunk, and many chunks with a short last one.
constexpr size_t kSizes[] = {0, 1, kChunk, 5 * 1024 * 1024 + 17};

std::string random_bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

std::string digest_of(const std::string& data) { return format_digest(Sha256::of(data)); }

ObjectStore open_store(natsConnection* nc, const std::string& bucket = kPackagesBucket) {
  auto os = ObjectStore::open(nc, bucket, /*create=*/true);
  INFO(os.status().message());
  REQUIRE(os.ok());
  return std::move(os).value();
}

Result<ObjectInfo> put_string(ObjectStore& os, const std::string& name, const std::string& data) {
  std::istringstream in(data);
  return os.put(name, in);
}

Result<std::string> get_string(ObjectStore& os, const std::string& name) {
  std::ostringstream out;
  auto info = os.get(name, out);
  if (!info) return info.status();
  return out.str();
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "natsfn-os-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

uint64_t stream_msgs(natsConnection* nc, const std::string& stream) {
  jsCtx* js = nullptr;
  REQUIRE(natsConnection_JetStream(&js, nc, nullptr) == NATS_OK);
  JsCtxPtr owned(js);
  jsStreamInfo* si = nullptr;
  REQUIRE(js_GetStreamInfo(&si, js, stream.c_str(), nullptr, nullptr) == NATS_OK);
  StreamInfoPtr info(si);
  return si->State.Msgs;
}

// A source that fails after `limit` bytes, the way a disk read error would surface.
class FailingBuf : public std::streambuf {
 public:
  explicit FailingBuf(size_t limit) : limit_(limit), block_(4096, 'x') {}

 protected:
  int_type underflow() override {
    if (served_ >= limit_) throw std::runtime_error("disk on fire");
    served_ += block_.size();
    setg(block_.data(), block_.data(), block_.data() + block_.size());
    return traits_type::to_int_type(block_[0]);
  }

 private:
  size_t limit_;
  size_t served_ = 0;
  std::string block_;
};

struct CommandResult {
  int exit_code;
  std::string output;
};

CommandResult run(const std::string& command) {
  CommandResult r{-1, {}};
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.output.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Runs a tests/js helper; returns the ObjectInfo JSON it prints.
nlohmann::json run_js(const std::string& script, const std::string& url, const std::string& bucket,
                      const std::string& name, const std::string& file) {
  std::string cmd = "node '" + test::source_path("tests/js/" + script) + "' '" + url + "' '" +
                    bucket + "' '" + name + "' '" + file + "'";
  auto r = run(cmd);
  INFO(cmd << "\n" << r.output);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.output.substr(r.output.rfind('{')), nullptr, false);
  REQUIRE(j.is_object());
  return j;
}

}  // namespace

TEST_CASE("base64url encodes padded and decodes every variant", "[unit]") {
  CHECK(base64url_encode("") == "");
  CHECK(base64url_encode("a") == "YQ==");
  CHECK(base64url_encode("ab") == "YWI=");
  CHECK(base64url_encode("abc") == "YWJj");
  CHECK(base64url_encode("\xfb\xff") == "-_8=");
  CHECK(base64url_decode("YQ==") == std::optional<std::string>("a"));
  CHECK(base64url_decode("YQ") == std::optional<std::string>("a"));
  CHECK(base64url_decode("-_8=") == std::optional<std::string>("\xfb\xff"));
  CHECK(base64url_decode("+/8") == std::optional<std::string>("\xfb\xff"));
  CHECK_FALSE(base64url_decode("Y").has_value());
  CHECK_FALSE(base64url_decode("Y$==").has_value());
  std::string all(256, '\0');
  for (int i = 0; i < 256; ++i) all[i] = static_cast<char>(i);
  CHECK(base64url_decode(base64url_encode(all)) == std::optional<std::string>(all));
}

TEST_CASE("digests are written as nats.js writes them and read in every form", "[unit]") {
  // sha256("") as nats.js v2 and nats.go print it.
  auto empty = Sha256::of("");
  CHECK(format_digest(empty) == "SHA-256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=");
  CHECK(parse_digest("SHA-256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU") == empty);
  CHECK(parse_digest("SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=") == empty);
  CHECK(parse_digest("SHA-256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") ==
        empty);
  CHECK_FALSE(parse_digest("SHA-512=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=").has_value());
  CHECK_FALSE(parse_digest("SHA-256=short").has_value());
  CHECK(meta_subject("b", "a") == "$O.b.M.YQ==");
}

TEST_CASE("malformed meta records are corrupt errors naming the object", "[unit]") {
  for (const char* bad : {"not json", "[]", R"({"name": 5})",
                          R"({"name":"x","nuid":"N","size":3,"chunks":1,"digest":"md5=abc"})",
                          R"({"name":"x","nuid":"N","size":-1,"chunks":1})"}) {
    auto r = decode_object_info(bad, "x", "b");
    INFO(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Errc::corrupt);
    CHECK(r.status().message().find("object 'x'") != std::string::npos);
  }
}

TEST_CASE("objects round-trip at the chunk boundaries", "[integration]") {
  test::NatsServer server;
  auto nc = test::connect_to(server);
  auto os = open_store(nc.get());
  for (size_t size : kSizes) {
    DYNAMIC_SECTION("size " << size) {
      std::string data = random_bytes(size, size);
      std::string name = "pkg-" + std::to_string(size) + ".zip";
      uint64_t last_done = 0, last_total = 0;
      std::istringstream in(data);
      auto put = os.put(name, in, [&](uint64_t d, uint64_t t) { last_done = d, last_total = t; });
      INFO(put.status().message());
      REQUIRE(put.ok());
      CHECK(put->size == size);
      CHECK(put->chunks == (size + kChunk - 1) / kChunk);
      CHECK(put->digest == digest_of(data));
      CHECK(last_done == size);
      CHECK(last_total == size);

      auto info = os.info(name);
      REQUIRE(info.ok());
      CHECK(info->digest == put->digest);
      CHECK(info->nuid == put->nuid);
      CHECK(info->mtime.size() == 24);

      std::ostringstream out;
      uint64_t got_done = 0;
      auto got = os.get(name, out, [&](uint64_t d, uint64_t) { got_done = d; });
      INFO(got.status().message());
      REQUIRE(got.ok());
      CHECK(out.str() == data);
      CHECK(got_done == size);
    }
  }
}

TEST_CASE("the bucket's stream is configured as ADR-20 and nats.js make it", "[integration]") {
  test::NatsServer server;
  auto nc = test::connect_to(server);
  auto os = open_store(nc.get(), "cfgcheck");
  jsCtx* js = nullptr;
  REQUIRE(natsConnection_JetStream(&js, nc.get(), nullptr) == NATS_OK);
  JsCtxPtr owned(js);
  jsStreamInfo* si = nullptr;
  REQUIRE(js_GetStreamInfo(&si, js, "OBJ_cfgcheck", nullptr, nullptr) == NATS_OK);
  StreamInfoPtr info(si);
  REQUIRE(si->Config->SubjectsLen == 2);
  CHECK(std::string(si->Config->Subjects[0]) == "$O.cfgcheck.C.>");
  CHECK(std::string(si->Config->Subjects[1]) == "$O.cfgcheck.M.>");
  CHECK(si->Config->AllowRollup);
  CHECK(si->Config->AllowDirect);
  CHECK(si->Config->Discard == js_DiscardNew);
  CHECK(si->Config->Storage == js_FileStorage);
  CHECK(si->Config->Replicas == 1);
}

TEST_CASE("unicode names, files and overwrites", "[integration]") {
  test::NatsServer server;
  auto nc = test::connect_to(server);
  auto os = open_store(nc.get());
  TempDir dir;

  std::string name = "pkg/ü✓ name.tar.gz";
  std::string v1 = random_bytes(3 * kChunk + 5, 1);
  std::string v2 = random_bytes(kChunk + 9, 2);
  REQUIRE(put_string(os, name, v1).ok());
  auto first = os.info(name);
  REQUIRE(first.ok());

  write_file(dir.file("v2"), v2);
  auto second = os.put_file(name, dir.file("v2"));
  REQUIRE(second.ok());
  CHECK(second->nuid != first->nuid);
  // Old chunks are purged: the stream holds the new chunks and one meta record only.
  CHECK(stream_msgs(nc.get(), "OBJ_natsfn_packages") == second->chunks + 1);

  auto got = os.get_to_file(name, dir.file("out"));
  REQUIRE(got.ok());
  CHECK(read_file(dir.file("out")) == v2);
  CHECK_FALSE(fs::exists(dir.file("out.tmp")));
}

TEST_CASE("delete, list and not-found", "[integration]") {
  test::NatsServer server;
  auto nc = test::connect_to(server);

  SECTION("a missing bucket is named, and only put creates it") {
    auto os = ObjectStore::open(nc.get(), "nobucket", /*create=*/false);
    REQUIRE(os.ok());
    for (auto status : {os->info("x").status(), os->list().status(), get_string(*os, "x").status(),
                        os->remove("x")}) {
      CHECK(status.code() == Errc::not_found);
      CHECK(status.message() == "bucket nobucket does not exist");
    }
    REQUIRE(put_string(*os, "x", "hello").ok());
    CHECK(get_string(*os, "x").value() == "hello");
  }

  SECTION("deleted objects are gone for get, info and list") {
    auto os = open_store(nc.get());
    auto missing = os.info("ghost");
    CHECK(missing.status().code() == Errc::not_found);
    CHECK(missing.status().message() == "object 'ghost' not found in bucket natsfn_packages");
    CHECK(os.list().value().empty());

    REQUIRE(put_string(os, "a", random_bytes(2 * kChunk, 3)).ok());
    REQUIRE(put_string(os, "b", "bee").ok());
    REQUIRE(put_string(os, "c", "").ok());
    REQUIRE(os.remove("a").ok());
    CHECK(os.remove("a").ok());  // already deleted: a no-op
    CHECK(os.remove("nope").code() == Errc::not_found);

    CHECK(get_string(os, "a").status().code() == Errc::not_found);
    CHECK(os.info("a").status().code() == Errc::not_found);
    auto listed = os.list();
    REQUIRE(listed.ok());
    std::vector<std::string> names;
    for (auto& i : *listed) names.push_back(i.name);
    std::sort(names.begin(), names.end());
    CHECK(names == std::vector<std::string>{"b", "c"});
    // Chunks of "a" purged: b's chunk, c's (none), three meta records.
    CHECK(stream_msgs(nc.get(), "OBJ_natsfn_packages") == 1 + 3);
  }
}

TEST_CASE("a failed put leaves the previous version intact", "[integration]") {
  test::NatsServer server;
  auto nc = test::connect_to(server);
  auto os = open_store(nc.get());
  std::string old = random_bytes(kChunk + 1, 4);
  auto v1 = put_string(os, "pkg", old);
  REQUIRE(v1.ok());

  FailingBuf buf(5 * kChunk + 100);
  std::istream in(&buf);
  auto r = os.put("pkg", in);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Errc::io);
  CHECK(r.status().message().find("'pkg'") != std::string::npos);
  CHECK(stream_msgs(nc.get(), "OBJ_natsfn_packages") == v1->chunks + 1);
  CHECK(get_string(os, "pkg").value() == old);
  CHECK(os.info("pkg")->nuid == v1->nuid);
}

TEST_CASE("a chunk replaced behind the store's back fails verification", "[integration]") {
  test::NatsServer server;
  auto nc = test::connect_to(server);
  auto os = open_store(nc.get());
  TempDir dir;
  std::string data = random_bytes(3 * kChunk, 5);
  auto put = put_string(os, "victim", data);
  REQUIRE(put.ok());

  jsCtx* js = nullptr;
  REQUIRE(natsConnection_JetStream(&js, nc.get(), nullptr) == NATS_OK);
  JsCtxPtr owned(js);
  std::string subject = chunk_subject(kPackagesBucket, put->nuid);
  natsMsg* last = nullptr;
  REQUIRE(js_GetLastMsg(&last, js, "OBJ_natsfn_packages", subject.c_str(), nullptr, nullptr) ==
          NATS_OK);
  MsgPtr last_owned(last);
  REQUIRE(js_DeleteMsg(js, "OBJ_natsfn_packages", natsMsg_GetSequence(last), nullptr, nullptr) ==
          NATS_OK);
  std::string altered(natsMsg_GetData(last), natsMsg_GetDataLength(last));
  altered[altered.size() / 2] ^= 0x5a;
  REQUIRE(js_Publish(nullptr, js, subject.c_str(), altered.data(), static_cast<int>(altered.size()),
                     nullptr, nullptr) == NATS_OK);

  auto got = get_string(os, "victim");
  REQUIRE_FALSE(got.ok());
  CHECK(got.status().code() == Errc::digest_mismatch);
  CHECK(got.status().message().rfind(
            "package 'victim': digest mismatch: expected " + put->digest + " got SHA-256=", 0) ==
        0);

  auto file = os.get_to_file("victim", dir.file("victim.zip"));
  CHECK(file.status().code() == Errc::digest_mismatch);
  CHECK(fs::is_empty(dir.path));

  SECTION("a malformed meta record is a corrupt error naming the object") {
    std::string meta = meta_subject(kPackagesBucket, "victim");
    REQUIRE(js_Publish(nullptr, js, meta.c_str(), "{\"name\":", 8, nullptr, nullptr) == NATS_OK);
    for (auto status : {os.info("victim").status(), get_string(os, "victim").status()}) {
      CHECK(status.code() == Errc::corrupt);
      CHECK(status.message().find("object 'victim'") != std::string::npos);
    }
    CHECK(os.list().value().empty());  // skipped with a warning, the listing still works
  }
}

TEST_CASE("nats.js v2 reads what natsfn writes and the other way round", "[integration][interop]") {
  std::string nats_js = test::source_path("tests/js/node_modules/nats/package.json");
  if (!fs::exists(nats_js)) {
    FAIL("nats.js is not installed for the interop tests; run: npm install --prefix " +
         test::source_path("tests/js"));
  }
  test::NatsServer server;
  auto nc = test::connect_to(server);
  auto os = open_store(nc.get());
  TempDir dir;
  for (size_t size : kSizes) {
    DYNAMIC_SECTION("size " << size) {
      std::string data = random_bytes(size, size + 100);
      std::string in = dir.file("in-" + std::to_string(size));
      write_file(in, data);

      std::string ours = "natsfn-" + std::to_string(size);
      auto put = os.put_file(ours, in);
      REQUIRE(put.ok());
      std::string js_out = dir.file("js-out-" + std::to_string(size));
      auto js_info = run_js("os_get.mjs", server.url(), kPackagesBucket, ours, js_out);
      CHECK(read_file(js_out) == data);
      CHECK(js_info["digest"] == put->digest);
      CHECK(js_info["size"] == size);
      CHECK(js_info["chunks"] == put->chunks);

      std::string theirs = "nats.js-" + std::to_string(size);
      auto js_put = run_js("os_put.mjs", server.url(), kPackagesBucket, theirs, in);
      CHECK(js_put["digest"] == digest_of(data));
      std::string our_out = dir.file("our-out-" + std::to_string(size));
      auto got = os.get_to_file(theirs, our_out);
      INFO(got.status().message());
      REQUIRE(got.ok());
      CHECK(got->digest == js_put["digest"].get<std::string>());
      CHECK(read_file(our_out) == data);
    }
  }
}
