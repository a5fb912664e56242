#include "bench/load/request_driver.hpp"

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <vector>

namespace natsfn::bench {
namespace {

using Clock = std::chrono::steady_clock;

int64_t ns_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count();
}

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

RunSamples run_sequential(natsConnection* nc, const LoadSpec& spec) {
  RunSamples samples;
  std::string payload = make_payload(spec.payload_size);
  auto start = Clock::now();
  auto stop_at = start + std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(spec.duration_s));
  auto last = start;
  for (uint64_t sent = 0;; ++sent) {
    if (spec.count > 0 ? sent >= spec.count : Clock::now() >= stop_at) break;
    natsMsg* reply = nullptr;
    auto t0 = Clock::now();
    natsStatus s = natsConnection_Request(&reply, nc, spec.subject.c_str(), payload.data(),
                                          static_cast<int>(payload.size()), spec.timeout_ms);
    auto t1 = Clock::now();
    if (s == NATS_OK) {
      if (classify_reply(reply, payload, spec.verify, samples))
        samples.latencies_ns.push_back(ns_between(t0, t1));
      natsMsg_Destroy(reply);
      last = t1;
    } else if (s == NATS_NO_RESPONDERS) {
      ++samples.no_responders;
    } else if (s == NATS_TIMEOUT) {
      ++samples.timeouts;
    } else {
      ++samples.errors;
    }
  }
  samples.elapsed_s = seconds_between(start, last);
  return samples;
}

// K requests in flight over one wildcard inbox subscription. Each slot carries a generation in
// its reply token so a reply that arrives after its slot timed out is recognised and ignored.
class InflightRun {
 public:
  InflightRun(natsConnection* nc, const LoadSpec& spec)
      : nc_(nc), spec_(spec), payload_(make_payload(spec.payload_size)),
        slots_(static_cast<size_t>(spec.inflight)) {
    natsInbox* inbox = nullptr;
    natsInbox_Create(&inbox);
    prefix_ = std::string(inbox) + ".";
    natsInbox_Destroy(inbox);
  }

  RunSamples run() {
    natsSubscription* sub = nullptr;
    std::string wildcard = prefix_ + "*";
    if (natsConnection_Subscribe(&sub, nc_, wildcard.c_str(), &InflightRun::on_msg, this) !=
        NATS_OK) {
      samples_.errors = 1;
      return samples_;
    }
    natsSubscription_SetPendingLimits(sub, -1, -1);
    // The subscription must be known to the server before the first reply comes back.
    natsConnection_FlushTimeout(nc_, 5000);

    start_ = last_reply_ = Clock::now();
    stop_at_ = start_ + std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double>(spec_.duration_s));
    {
      std::unique_lock lock(mu_);
      for (size_t i = 0; i < slots_.size(); ++i) {
        if (!may_send(Clock::now())) break;
        send_locked(i, Clock::now());
      }
    }
    std::unique_lock lock(mu_);
    while (busy_ > 0) {
      cv_.wait_for(lock, std::chrono::milliseconds(50));
      auto now = Clock::now();
      // A slot whose reply is overdue counts a timeout and carries on with a new request.
      for (size_t i = 0; i < slots_.size(); ++i) {
        Slot& slot = slots_[i];
        if (slot.busy && ns_between(slot.sent, now) > spec_.timeout_ms * 1000000) {
          ++samples_.timeouts;
          slot.busy = false;
          --busy_;
          if (may_send(now)) send_locked(i, now);
        }
      }
    }
    lock.unlock();
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    samples_.elapsed_s = seconds_between(start_, last_reply_);
    return std::move(samples_);
  }

 private:
  struct Slot {
    Clock::time_point sent;
    uint32_t generation = 0;
    bool busy = false;
  };

  bool may_send(Clock::time_point now) const {
    return spec_.count > 0 ? sent_ < spec_.count : now < stop_at_;
  }

  void send_locked(size_t i, Clock::time_point now) {
    Slot& slot = slots_[i];
    ++slot.generation;
    slot.busy = true;
    slot.sent = now;
    ++busy_;
    ++sent_;
    char reply[256];
    snprintf(reply, sizeof reply, "%s%zux%u", prefix_.c_str(), i, slot.generation);
    natsStatus s = natsConnection_PublishRequest(nc_, spec_.subject.c_str(), reply, payload_.data(),
                                                 static_cast<int>(payload_.size()));
    if (s != NATS_OK) {
      ++samples_.errors;
      slot.busy = false;
      --busy_;
    }
  }

  static void on_msg(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    static_cast<InflightRun*>(closure)->handle(msg);
    natsMsg_Destroy(msg);
  }

  void handle(natsMsg* msg) {
    auto now = Clock::now();
    const char* subject = natsMsg_GetSubject(msg);
    const char* token = subject + prefix_.size();
    char* x = nullptr;
    size_t i = strtoul(token, &x, 10);
    if (x == nullptr || *x != 'x') return;
    auto generation = static_cast<uint32_t>(strtoul(x + 1, nullptr, 10));
    std::lock_guard lock(mu_);
    if (i >= slots_.size()) return;
    Slot& slot = slots_[i];
    if (!slot.busy || slot.generation != generation) return;  // already timed out
    if (natsMsg_IsNoResponders(msg)) {
      ++samples_.no_responders;
    } else if (classify_reply(msg, payload_, spec_.verify, samples_)) {
      samples_.latencies_ns.push_back(ns_between(slot.sent, now));
      last_reply_ = now;
    }
    slot.busy = false;
    --busy_;
    if (may_send(now)) send_locked(i, now);
    if (busy_ == 0) cv_.notify_all();
  }

  natsConnection* nc_;
  LoadSpec spec_;
  std::string payload_;
  std::string prefix_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Slot> slots_;
  size_t busy_ = 0;
  uint64_t sent_ = 0;
  Clock::time_point start_, stop_at_, last_reply_;
  RunSamples samples_;
};

}  // namespace

std::string make_payload(size_t size) {
  std::string p(size, 'x');
  for (size_t i = 0; i < size; ++i) p[i] = static_cast<char>('a' + i % 26);
  return p;
}

bool classify_reply(natsMsg* reply, const std::string& payload, bool verify, RunSamples& samples) {
  const char* value = nullptr;
  if (natsMsgHeader_Get(reply, "Nats-Service-Error-Code", &value) == NATS_OK) {
    ++samples.errors;
    return false;
  }
  if (natsMsgHeader_Get(reply, "Natsfn-Cold-Start", &value) == NATS_OK) ++samples.cold;
  if (verify) {
    int len = natsMsg_GetDataLength(reply);
    if (static_cast<size_t>(len) != payload.size() ||
        memcmp(natsMsg_GetData(reply), payload.data(), payload.size()) != 0) {
      ++samples.mismatches;
      return false;
    }
  }
  return true;
}

RunSamples run_load(natsConnection* nc, const LoadSpec& spec) {
  if (spec.inflight <= 1) return run_sequential(nc, spec);
  InflightRun run(nc, spec);
  return run.run();
}

}  // namespace natsfn::bench
