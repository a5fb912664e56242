// core/loop_subscriber against a real nats-server: every message reaches its handler, in order per
// subscription, when only a few of hundreds of subscriptions are busy. The sweep that looks at
// every subscription regardless is set to an hour in the first case, so each message there must
// have been found through the connection's message counter and the busy list alone.
#include <catch2/catch.hpp>
#include <uv.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/connection.hpp"
#include "core/loop_subscriber.hpp"
#include "core/loop_write_flush.hpp"
#include "tests/support/nats_server.hpp"

using namespace natsfn;

namespace {

constexpr int kSubjects = 300;
constexpr int kHot = 7;  // the subject that gets most of the traffic

// A loop, a connection doing its I/O on it, a LoopSubscriber, and what each subject received.
struct LoopRig {
  LoopRig(const test::NatsServer& server, uint64_t sweep_ms) {
    uv_loop_init(&loop);
    conn = test::connect_to(server, {.event_loop = &loop});
    subscriber = std::make_unique<LoopSubscriber>(&loop, conn.get(), sweep_ms);
    write_flush = std::make_unique<LoopWriteFlush>(&loop, conn.get());  // as in the daemons
  }
  ~LoopRig() {
    // As the sidecar shuts down: close the subscriber (its UNSUBs are buffered), write them out,
    // and close the connection a little later, from a loop callback. Closing with data still
    // buffered would make nats.c wait for a PONG the blocked loop cannot read, and the adapter
    // then trips libuv over the closed socket.
    subscriber->close();
    write_flush->close();
    uv_timer_t closer;
    uv_timer_init(&loop, &closer);
    closer.data = conn.get();
    uv_timer_start(&closer, [](uv_timer_t* t) {
      natsConnection_Close(static_cast<natsConnection*>(t->data));  // detaches from the loop
      uv_close(reinterpret_cast<uv_handle_t*>(t), nullptr);
    }, 20, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    subscriber.reset();
    write_flush.reset();
    conn.reset();
    uv_loop_close(&loop);
  }

  LoopSubscriber::Subscription* subscribe(const std::string& subject, const std::string& queue = "") {
    auto sub = subscriber->subscribe(subject, queue, [this, subject](MsgPtr m) {
      received[subject].emplace_back(natsMsg_GetData(m.get()), natsMsg_GetDataLength(m.get()));
      ++total;
    });
    REQUIRE(sub);
    return *sub;
  }

  // Runs the loop until pred holds; the deadline only turns a lost message into a failure.
  bool pump_until(const std::function<bool()>& pred) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!pred()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      uv_run(&loop, UV_RUN_NOWAIT);
    }
    return true;
  }

  uv_loop_t loop{};
  ConnectionPtr conn;
  std::unique_ptr<LoopSubscriber> subscriber;
  std::unique_ptr<LoopWriteFlush> write_flush;
  std::map<std::string, std::vector<std::string>> received;
  size_t total = 0;
};

std::string subject_of(int i) { return "ls." + std::to_string(i); }

// Returns once the server has every subscription made so far. The loop's connection cannot
// flush (the PONG could only be read by the loop the flush would block), but its SUBs go out in
// order: once a sentinel subscribed last delivers, all earlier ones do.
void await_server_has_subs(LoopRig& rig, natsConnection* pub) {
  static int round = 0;
  std::string sentinel = "ls.ready." + std::to_string(round++);
  bool ready = false;
  auto sub = rig.subscriber->subscribe(sentinel, "", [&](MsgPtr) { ready = true; });
  REQUIRE(sub);
  auto next_probe = std::chrono::steady_clock::now();
  REQUIRE(rig.pump_until([&] {
    if (std::chrono::steady_clock::now() >= next_probe) {
      natsConnection_PublishString(pub, sentinel.c_str(), "x");
      natsConnection_Flush(pub);
      next_probe += std::chrono::milliseconds(20);
    }
    return ready;
  }));
  rig.subscriber->unsubscribe(*sub);
}

// Subscribes ls.0 .. ls.<kSubjects-1>, every third in a queue group.
std::vector<LoopSubscriber::Subscription*> subscribe_all(LoopRig& rig, natsConnection* pub) {
  std::vector<LoopSubscriber::Subscription*> subs;
  for (int i = 0; i < kSubjects; ++i) subs.push_back(rig.subscribe(subject_of(i), i % 3 == 0 ? "q" : ""));
  await_server_has_subs(rig, pub);
  return subs;
}

// Publishes `rounds` messages to the hot subject interleaved with one to each of `quiet`, in a
// shuffled order; returns how many it sent. Payloads are "<subject>#<n>" numbered per subject.
size_t publish_mix(natsConnection* pub, std::vector<int> quiet, int rounds,
                   std::map<int, int>& sent) {
  std::mt19937 rng(42);
  std::shuffle(quiet.begin(), quiet.end(), rng);
  size_t n = 0;
  auto send = [&](int i) {
    std::string payload = subject_of(i) + "#" + std::to_string(sent[i]++);
    REQUIRE(natsConnection_PublishString(pub, subject_of(i).c_str(), payload.c_str()) == NATS_OK);
    ++n;
  };
  size_t q = 0;
  for (int r = 0; r < rounds; ++r) {
    send(kHot);
    if (r % 2 == 0 && q < quiet.size()) send(quiet[q++]);
  }
  while (q < quiet.size()) send(quiet[q++]);
  natsConnection_Flush(pub);
  return n;
}

void check_in_order(LoopRig& rig, const std::map<int, int>& sent) {
  for (auto [i, count] : sent) {
    const auto& got = rig.received[subject_of(i)];
    REQUIRE(got.size() == static_cast<size_t>(count));
    for (int k = 0; k < count; ++k) CHECK(got[k] == subject_of(i) + "#" + std::to_string(k));
  }
}

}  // namespace

TEST_CASE("LoopSubscriber: a message to a quiet subscription is found while others are busy",
          "[integration]") {
  test::NatsServer server;
  auto pub = test::connect_to(server);
  LoopRig rig(server, 3600 * 1000);  // no sweep: the counter must find everything
  auto subs = subscribe_all(rig, pub.get());

  std::map<int, int> sent;
  // Round 1: the hot subject and the even ones. They become the busy list.
  std::vector<int> even, odd;
  for (int i = 0; i < kSubjects; ++i)
    if (i != kHot) (i % 2 == 0 ? even : odd).push_back(i);
  size_t expected = publish_mix(pub.get(), even, 400, sent);
  REQUIRE(rig.pump_until([&] { return rig.total == expected; }));
  // Round 2: the odd ones have never had a message; each arrives among busy traffic.
  expected += publish_mix(pub.get(), odd, 400, sent);
  REQUIRE(rig.pump_until([&] { return rig.total == expected; }));
  // Round 3: everyone again, hot traffic first and last.
  std::vector<int> all = even;
  all.insert(all.end(), odd.begin(), odd.end());
  expected += publish_mix(pub.get(), all, 600, sent);
  REQUIRE(rig.pump_until([&] { return rig.total == expected; }));
  check_in_order(rig, sent);

  // A busy subscription unsubscribed and a drained one: nothing more reaches them, and the rest
  // still get everything.
  rig.subscriber->unsubscribe(subs[even.front()]);
  natsConnection_PublishString(pub.get(), subject_of(even.front()).c_str(), "gone");
  bool drained = false;
  auto* hot = rig.subscribe("ls.hot2");
  await_server_has_subs(rig, pub.get());
  for (int k = 0; k < 10; ++k) natsConnection_PublishString(pub.get(), "ls.hot2", "h");
  natsConnection_Flush(pub.get());
  REQUIRE(rig.pump_until([&] { return rig.received["ls.hot2"].size() == 10; }));
  rig.subscriber->drain(hot, [&] { drained = true; });
  REQUIRE(rig.pump_until([&] { return drained; }));
  CHECK(rig.subscriber->draining() == 0);
  natsConnection_PublishString(pub.get(), "ls.hot2", "late");
  expected += publish_mix(pub.get(), odd, 100, sent);
  REQUIRE(rig.pump_until([&] { return rig.total == expected + 10; }));
  check_in_order(rig, sent);
  CHECK(rig.received["ls.hot2"].size() == 10);
  CHECK(rig.received[subject_of(even.front())].size() == static_cast<size_t>(sent[even.front()]));
}

TEST_CASE("LoopSubscriber: subscriptions leave the busy list when quiet and still get messages",
          "[integration]") {
  test::NatsServer server;
  auto pub = test::connect_to(server);
  LoopRig rig(server, 5);  // sweeps often: the busy list turns over between rounds
  subscribe_all(rig, pub.get());

  std::map<int, int> sent;
  std::vector<int> some = {1, 50, 120, 299};
  size_t expected = 0;
  for (int round = 0; round < 5; ++round) {
    expected += publish_mix(pub.get(), some, 200, sent);
    REQUIRE(rig.pump_until([&] { return rig.total == expected; }));
    // Quiet for a few sweeps, so everything cools down.
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(30);
    rig.pump_until([&] { return std::chrono::steady_clock::now() > until; });
    std::rotate(some.begin(), some.begin() + 1, some.end());
    some.push_back((some.back() + 37) % kSubjects);
  }
  check_in_order(rig, sent);
}
