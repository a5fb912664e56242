#pragma once
// Drives request/reply load at one subject: sequentially (one request at a time, the latency a
// caller sees) or with K requests in flight (throughput).

#include <nats/nats.h>

#include <cstdint>
#include <string>

#include "bench/load/latency_stats.hpp"

namespace natsfn::bench {

struct LoadSpec {
  std::string subject;
  size_t payload_size = 16;
  uint64_t count = 0;       // stop after this many requests (0: use duration_s)
  double duration_s = 5.0;  // used when count == 0
  int inflight = 1;
  int64_t timeout_ms = 5000;
  bool verify = false;  // count replies that are not the payload as mismatches (echo targets)
};

// The request payload: printable, and not JSON, so runtimes that parse JSON events hand it to an
// echo handler as a plain string.
std::string make_payload(size_t size);

// Runs the load on nc (which should have send_asap set) and returns what it measured.
RunSamples run_load(natsConnection* nc, const LoadSpec& spec);

// Classifies one reply into samples (error header, cold-start header, payload check).
// Returns true when it counts as an answered request.
bool classify_reply(natsMsg* reply, const std::string& payload, bool verify, RunSamples& samples);

}  // namespace natsfn::bench
