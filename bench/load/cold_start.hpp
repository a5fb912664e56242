#pragma once
// Cold-start timing: request → reply when no worker is warm. Between runs it waits until the
// sidecar has no child processes left (its idle workers left after the idle TTL), so every
// request has to start a worker.

#include <nats/nats.h>
#include <sys/types.h>

#include <string>

#include "bench/load/latency_stats.hpp"

namespace natsfn::bench {

struct ColdSpec {
  // "{i}" is replaced by the run number, so each run can target a function of its own (a new
  // package digest, hence an uncached package).
  std::string subject_template;
  int runs = 20;
  pid_t sidecar_pid = 0;  // 0: do not wait for workers to leave
  int settle_ms = 50;     // extra quiet time after the last worker is gone
  int64_t timeout_ms = 10000;
  int64_t wait_workers_ms = 30000;
  size_t payload_size = 16;
  bool verify = false;
  bool verbose = false;
};

// Returns the samples; a run that could not wait for the workers to leave counts as an error.
RunSamples run_cold(natsConnection* nc, const ColdSpec& spec);

// Number of live processes whose parent is pid (zombies included: they are not reaped yet).
int child_count(pid_t pid);

}  // namespace natsfn::bench
