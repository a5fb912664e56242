#include "bench/load/latency_stats.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <numeric>

namespace natsfn::bench {

double percentile(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  // Nearest rank: the smallest value with at least p% of the samples at or below it.
  auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  if (rank == 0) rank = 1;
  return static_cast<double>(sorted[std::min(rank, sorted.size()) - 1]);
}

Summary summarize(RunSamples& samples) {
  auto& v = samples.latencies_ns;
  std::sort(v.begin(), v.end());
  Summary s;
  s.ok = v.size();
  s.failed = samples.errors + samples.no_responders + samples.timeouts + samples.mismatches;
  s.cold = samples.cold;
  if (!v.empty()) {
    double sum = std::accumulate(v.begin(), v.end(), 0.0);
    s.mean_us = sum / static_cast<double>(v.size()) / 1000.0;
    s.p50_us = percentile(v, 50) / 1000.0;
    s.p90_us = percentile(v, 90) / 1000.0;
    s.p99_us = percentile(v, 99) / 1000.0;
    s.min_us = static_cast<double>(v.front()) / 1000.0;
    s.max_us = static_cast<double>(v.back()) / 1000.0;
  }
  if (samples.elapsed_s > 0) s.rate = static_cast<double>(s.ok) / samples.elapsed_s;
  return s;
}

std::string describe(const Summary& s) {
  char buf[256];
  snprintf(buf, sizeof buf,
           "p50 %.0f us  p99 %.0f us  mean %.0f us  %.0f req/s  (n=%llu, failed %llu, cold %llu)",
           s.p50_us, s.p99_us, s.mean_us, s.rate, static_cast<unsigned long long>(s.ok),
           static_cast<unsigned long long>(s.failed), static_cast<unsigned long long>(s.cold));
  return buf;
}

std::string to_json(const Summary& s) {
  nlohmann::json j = {{"ok", s.ok},         {"failed", s.failed}, {"cold", s.cold},
                      {"rate", s.rate},     {"mean_us", s.mean_us}, {"p50_us", s.p50_us},
                      {"p90_us", s.p90_us}, {"p99_us", s.p99_us}, {"min_us", s.min_us},
                      {"max_us", s.max_us}};
  return j.dump();
}

}  // namespace natsfn::bench
