#pragma once
// Writes many functions (clones of one that exists) and their bindings straight into the KV
// catalogue, so a bench can give a sidecar hundreds of functions without hundreds of CLI runs.

#include <nats/nats.h>

#include <string>

#include "core/status.hpp"

namespace natsfn::bench {

struct FillSpec {
  std::string template_function;  // an existing function whose package and runtime are reused
  std::string name_prefix = "rss-";
  std::string bind_prefix = "bench.rss.";  // empty: no bindings
  int count = 200;
};

// Puts <name_prefix>000 … with min_warm 0, each bound to <bind_prefix>000 ….
Status fill_catalogue(natsConnection* nc, const FillSpec& spec);

}  // namespace natsfn::bench
