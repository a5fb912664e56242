#include "bench/load/cold_start.hpp"

#include <dirent.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "bench/load/request_driver.hpp"

namespace natsfn::bench {
namespace {

using Clock = std::chrono::steady_clock;

std::string subject_for(const std::string& tmpl, int i) {
  std::string out = tmpl;
  auto at = out.find("{i}");
  if (at != std::string::npos) out.replace(at, 3, std::to_string(i));
  return out;
}

bool wait_for_no_children(pid_t pid, int64_t timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (child_count(pid) > 0) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace

int child_count(pid_t pid) {
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return 0;
  int n = 0;
  while (dirent* e = readdir(proc)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    char path[300], buf[512];
    snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
    FILE* f = fopen(path, "r");
    if (f == nullptr) continue;
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so parse after the last ')'.
    const char* close = strrchr(buf, ')');
    char state = 0;
    int ppid = 0;
    if (close != nullptr && sscanf(close + 1, " %c %d", &state, &ppid) == 2 && ppid == pid) ++n;
  }
  closedir(proc);
  return n;
}

RunSamples run_cold(natsConnection* nc, const ColdSpec& spec) {
  RunSamples samples;
  std::string payload = make_payload(spec.payload_size);
  auto start = Clock::now();
  for (int i = 0; i < spec.runs; ++i) {
    if (spec.sidecar_pid > 0) {
      if (!wait_for_no_children(spec.sidecar_pid, spec.wait_workers_ms)) {
        fprintf(stderr, "cold: run %d: sidecar %d still has workers after %lld ms\n", i,
                static_cast<int>(spec.sidecar_pid), static_cast<long long>(spec.wait_workers_ms));
        ++samples.errors;
        continue;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(spec.settle_ms));
    }
    std::string subject = subject_for(spec.subject_template, i);
    // A function deployed a moment ago may not be subscribed yet: no responders means retry.
    auto deadline = Clock::now() + std::chrono::milliseconds(spec.timeout_ms);
    for (;;) {
      natsMsg* reply = nullptr;
      auto t0 = Clock::now();
      natsStatus s = natsConnection_Request(&reply, nc, subject.c_str(), payload.data(),
                                            static_cast<int>(payload.size()), spec.timeout_ms);
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
      if (s == NATS_NO_RESPONDERS && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      if (s == NATS_OK) {
        uint64_t cold_before = samples.cold;
        if (classify_reply(reply, payload, spec.verify, samples)) {
          samples.latencies_ns.push_back(ns);
          if (spec.verbose)
            fprintf(stderr, "cold: run %d %s: %.2f ms%s\n", i, subject.c_str(), ns / 1e6,
                    samples.cold > cold_before ? " (cold)" : " (NOT cold)");
        }
        natsMsg_Destroy(reply);
      } else if (s == NATS_TIMEOUT) {
        ++samples.timeouts;
      } else if (s == NATS_NO_RESPONDERS) {
        ++samples.no_responders;
      } else {
        ++samples.errors;
      }
      break;
    }
  }
  samples.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
  return samples;
}

}  // namespace natsfn::bench
