#pragma once
// One invocation, one server: a baseline echo service and a function subject measured side by
// side at each concurrency K, with the function/baseline ratios.

#include <nats/nats.h>

#include <string>
#include <utility>
#include <vector>

namespace natsfn::bench {

struct CompareSpec {
  // Empty: start an in-process raw nats.c echo responder on a private subject.
  std::string baseline_subject;
  std::string baseline_label = "raw nats.c echo";
  std::string function_subject;
  std::string function_label = "function";
  std::vector<int> ks{1, 64};
  size_t payload_size = 16;
  double duration_s = 3.0;
  double warmup_s = 1.0;
  // Baseline and function alternate this many times per K; the medians are reported, which
  // keeps a burst of load from another process on a shared machine from deciding the ratio.
  int rounds = 3;
  std::vector<std::pair<int, double>> goals;  // K -> minimum throughput ratio
  bool verify = true;
  bool json = false;
};

// Runs the comparison; client and responder are separate connections with send_asap set
// (responder is unused when baseline_subject is given). Returns 0, 2 on a setup failure.
int run_compare(natsConnection* client, natsConnection* responder, const CompareSpec& spec);

}  // namespace natsfn::bench
