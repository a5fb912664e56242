#pragma once
// Latency samples of one measured run and the summary the bench prints (percentiles, rate).

#include <cstdint>
#include <string>
#include <vector>

namespace natsfn::bench {

// Counts and samples gathered by one run; latencies in nanoseconds, one per answered request.
struct RunSamples {
  std::vector<int64_t> latencies_ns;
  uint64_t errors = 0;         // replies carrying Nats-Service-Error-Code (429, 500, 502, ...)
  uint64_t no_responders = 0;  // nobody listened on the subject
  uint64_t timeouts = 0;       // no reply within the request timeout
  uint64_t mismatches = 0;     // --verify: the reply was not the payload we sent
  uint64_t cold = 0;           // replies marked Natsfn-Cold-Start: 1
  double elapsed_s = 0;        // first send to last reply
};

struct Summary {
  uint64_t ok = 0;
  uint64_t failed = 0;  // errors + no_responders + timeouts + mismatches
  uint64_t cold = 0;
  double rate = 0;  // answered requests per second
  double mean_us = 0, p50_us = 0, p90_us = 0, p99_us = 0, min_us = 0, max_us = 0;
};

// Sorts the samples in place.
Summary summarize(RunSamples& samples);

// Nearest-rank percentile (p in [0, 100]) of sorted values.
double percentile(const std::vector<int64_t>& sorted, double p);

// "p50 178 us p99 250 us mean 190 us 5261 req/s (n=26300, failed 0)"
std::string describe(const Summary& s);

// The same as a JSON object.
std::string to_json(const Summary& s);

}  // namespace natsfn::bench
