#include "bench/load/compare.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>

#include "bench/load/echo_responder.hpp"
#include "bench/load/latency_stats.hpp"
#include "bench/load/request_driver.hpp"

namespace natsfn::bench {
namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Per-metric medians over the rounds; counts are summed.
Summary median_summary(const std::vector<Summary>& rounds) {
  Summary m;
  auto med = [&](double Summary::*field) {
    std::vector<double> v;
    for (auto& r : rounds) v.push_back(r.*field);
    return median(v);
  };
  m.rate = med(&Summary::rate);
  m.mean_us = med(&Summary::mean_us);
  m.p50_us = med(&Summary::p50_us);
  m.p90_us = med(&Summary::p90_us);
  m.p99_us = med(&Summary::p99_us);
  m.min_us = med(&Summary::min_us);
  m.max_us = med(&Summary::max_us);
  for (auto& r : rounds) {
    m.ok += r.ok;
    m.failed += r.failed;
    m.cold += r.cold;
  }
  return m;
}

Summary measure(natsConnection* nc, const std::string& subject, int k, const CompareSpec& spec) {
  LoadSpec load;
  load.subject = subject;
  load.payload_size = spec.payload_size;
  load.inflight = k;
  load.verify = spec.verify;
  if (spec.warmup_s > 0) {
    load.duration_s = spec.warmup_s;
    run_load(nc, load);
  }
  load.duration_s = spec.duration_s;
  RunSamples samples = run_load(nc, load);
  return summarize(samples);
}

void print_row(int k, const std::string& label, const Summary& s) {
  printf("K=%-4d %-26s %9.0f req/s  p50 %7.0f us  p99 %7.0f us  mean %7.0f us  n=%llu failed=%llu cold=%llu\n",
         k, label.c_str(), s.rate, s.p50_us, s.p99_us, s.mean_us,
         static_cast<unsigned long long>(s.ok), static_cast<unsigned long long>(s.failed),
         static_cast<unsigned long long>(s.cold));
}

}  // namespace

int run_compare(natsConnection* client, natsConnection* responder, const CompareSpec& spec) {
  EchoResponder raw;
  std::string baseline = spec.baseline_subject;
  if (baseline.empty()) {
    natsInbox* inbox = nullptr;
    natsInbox_Create(&inbox);
    baseline = std::string("bench.raw.") + (inbox + 7);  // a private subject: no other responder
    natsInbox_Destroy(inbox);
    if (Status s = raw.start(responder, baseline); !s.ok()) {
      fprintf(stderr, "natsfn-bench: %s\n", s.message().c_str());
      return 2;
    }
  }
  printf("payload %zu bytes, %.1fs per run after %.1fs warm-up, median of %d rounds\n",
         spec.payload_size, spec.duration_s, spec.warmup_s, spec.rounds);
  for (int k : spec.ks) {
    std::vector<Summary> base_rounds, fn_rounds;
    for (int r = 0; r < spec.rounds; ++r) {
      base_rounds.push_back(measure(client, baseline, k, spec));
      fn_rounds.push_back(measure(client, spec.function_subject, k, spec));
    }
    Summary b = median_summary(base_rounds), f = median_summary(fn_rounds);
    double ratio = b.rate > 0 ? f.rate / b.rate : 0;
    print_row(k, spec.baseline_label, b);
    print_row(k, spec.function_label, f);
    std::string goal_text;
    std::optional<double> goal;
    for (auto& [gk, g] : spec.goals)
      if (gk == k) goal = g;
    if (goal) {
      char buf[64];
      snprintf(buf, sizeof buf, "  (goal >= %.2f: %s)", *goal, ratio >= *goal ? "MET" : "MISSED");
      goal_text = buf;
    }
    printf("K=%-4d ratio %s/%s: throughput %.2fx%s, p50 latency %.2fx\n", k,
           spec.function_label.c_str(), spec.baseline_label.c_str(), ratio, goal_text.c_str(),
           b.p50_us > 0 ? f.p50_us / b.p50_us : 0);
    if (spec.json) {
      nlohmann::json j = {{"k", k},
                          {"baseline", nlohmann::json::parse(to_json(b))},
                          {"function", nlohmann::json::parse(to_json(f))},
                          {"ratio", ratio}};
      if (goal) j["goal"] = *goal;
      printf("JSON %s\n", j.dump().c_str());
    }
    fflush(stdout);
  }
  return 0;
}

}  // namespace natsfn::bench
