#pragma once
// Connection settings taken the way the nats CLI takes them: flags first, then NATS_URL and
// friends from the environment, then nats://127.0.0.1:4222.

#include <uv.h>

#include <functional>
#include <string>

#include "core/nats_handles.hpp"
#include "core/status.hpp"

namespace CLI {
class App;
}

namespace natsfn {

struct ConnectionConfig {
  std::string servers;  // comma-separated list of URLs
  std::string creds;
  std::string user;
  std::string password;
  std::string token;
  std::string tlsca;
  std::string tlscert;
  std::string tlskey;
  std::string name = "natsfn";
  int connect_timeout_ms = 5000;

  // Fills unset fields from NATS_URL, NATS_CREDS, NATS_USER, NATS_PASSWORD, NATS_TOKEN, NATS_CA,
  // NATS_CERT, NATS_KEY.
  void apply_environment();
  // Registers --server, --creds, --user, --password, --token, --tlsca, --tlscert, --tlskey.
  void add_flags(CLI::App& app);
};

struct ConnectOptions {
  // Replies are small and latency-bound; buffering would add ~1 ms per reply at low load.
  bool send_asap = false;
  // Daemons reconnect forever and keep their subscriptions; the CLI fails fast.
  bool reconnect_forever = false;
  // Do the connection's socket I/O on this libuv loop (see core/nats_libuv.hpp). connect() must
  // then be called on the loop's thread.
  uv_loop_t* event_loop = nullptr;
  // Called on nats.c's thread on disconnect (false) and reconnect (true). Owned by the caller
  // and must outlive the connection.
  const std::function<void(bool connected)>* on_connection_change = nullptr;
};

// A fresh inbox subject, `_INBOX.<nuid>`.
Result<std::string> new_inbox();

// Opens a connection; the returned handle owns it.
Result<ConnectionPtr> connect(const ConnectionConfig& config, ConnectOptions options = {});

// What a loop-driven daemon (sidecar, HTTP bridge) holds: `data` does its socket I/O on the loop
// (subscriptions, replies, request publishes); `control` serves the blocking JetStream calls (KV,
// Object Store), which on the loop's own connection could never read their replies. Both
// reconnect forever. Call on the loop's thread.
struct LoopConnections {
  ConnectionPtr control;
  ConnectionPtr data;
};
Result<LoopConnections> connect_loop_daemon(const ConnectionConfig& config, uv_loop_t* loop,
                                            ConnectOptions data_options);

}  // namespace natsfn
