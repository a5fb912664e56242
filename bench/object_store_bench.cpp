// Object Store throughput: puts a file into a bucket and gets it back (into a sink that discards
// the bytes, so the disk is not what is measured), then prints MiB/s for each and the process's
// peak RSS, one `key=value` per line for bench/os_bench.sh.
//
// usage: natsfn-bench-os --server URL --file PATH [--bucket B] [--name N] [--window W] [--batch B]

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <ostream>
#include <streambuf>
#include <string>

#include "core/connection.hpp"
#include "core/object_store.hpp"

namespace {

class NullBuf : public std::streambuf {
 protected:
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
  int_type overflow(int_type c) override { return traits_type::not_eof(c); }
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int fail(const std::string& what) {
  std::fprintf(stderr, "natsfn-bench-os: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  natsfn::ConnectionConfig config;
  std::string file, bucket = "natsfn_bench", name = "bench-object";
  natsfn::ObjectStoreOptions options;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    std::string value = argv[i + 1];
    if (flag == "--server")
      config.servers = value;
    else if (flag == "--file")
      file = value;
    else if (flag == "--bucket")
      bucket = value;
    else if (flag == "--name")
      name = value;
    else if (flag == "--window")
      options.publish_window = std::atoi(value.c_str());
    else if (flag == "--batch")
      options.fetch_batch = std::atoi(value.c_str());
    else
      return fail("unknown flag " + flag);
  }
  if (file.empty()) return fail("--file is required");
  config.apply_environment();

  auto nc = natsfn::connect(config);
  if (!nc) return fail(nc.status().message());
  auto os = natsfn::ObjectStore::open(nc->get(), bucket, /*create=*/true, options);
  if (!os) return fail(os.status().message());
  double mib = static_cast<double>(std::filesystem::file_size(file)) / (1024.0 * 1024.0);

  auto start = std::chrono::steady_clock::now();
  auto put = os->put_file(name, file);
  double put_s = seconds_since(start);
  if (!put) return fail(put.status().message());

  NullBuf sink_buf;
  std::ostream sink(&sink_buf);
  start = std::chrono::steady_clock::now();
  auto got = os->get(name, sink);
  double get_s = seconds_since(start);
  if (!got) return fail(got.status().message());

  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf(
      "client=natsfn\nsize_mib=%.1f\nput_s=%.3f\nput_mibps=%.1f\nget_s=%.3f\n"
      "get_mibps=%.1f\nmaxrss_kib=%ld\ndigest=%s\n",
      mib, put_s, mib / put_s, get_s, mib / get_s, usage.ru_maxrss, got->digest.c_str());
  return 0;
}
