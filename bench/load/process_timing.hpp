#pragma once
// Process-level floors the sidecar's numbers are judged against: what it costs to start a
// process (posix_spawn + wait) and to make one round trip over a unix socketpair between two
// processes (the extra hop from the sidecar to a worker).

#include <string>
#include <vector>

#include "bench/load/latency_stats.hpp"

namespace natsfn::bench {

// Starts argv (searched on PATH) runs times, waiting for each to exit; stdout/stderr go to
// /dev/null. A non-zero exit counts as an error.
RunSamples time_spawn(const std::vector<std::string>& argv, int runs);

// Forks a child that echoes payload_size bytes back over a socketpair; times runs round trips.
RunSamples time_socketpair_rtt(size_t payload_size, int runs);

}  // namespace natsfn::bench
