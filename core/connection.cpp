#include "core/connection.hpp"

#include "core/nats_libuv.hpp"
#include "core/split.hpp"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <memory>
#include <vector>

namespace natsfn {

Result<std::string> new_inbox() {
  natsInbox* inbox = nullptr;
  if (auto s = natsInbox_Create(&inbox); s != NATS_OK) return nats_status(s, "creating an inbox");
  std::string subject = inbox;
  natsInbox_Destroy(inbox);
  return subject;
}
namespace {

void from_env(std::string& field, const char* var) {
  if (!field.empty()) return;
  if (const char* v = std::getenv(var); v != nullptr) field = v;
}

std::vector<std::string> split_servers(const std::string& list) {
  std::vector<std::string> out;
  for (auto url : split(list, ',', EmptyParts::drop)) {
    while (!url.empty() && url.front() == ' ') url.remove_prefix(1);
    while (!url.empty() && url.back() == ' ') url.remove_suffix(1);
    if (!url.empty()) out.emplace_back(url);
  }
  return out;
}

// nats.c calls these on its own threads; the closure they reach is owned by the caller.
void on_disconnected(natsConnection*, void* closure) {
  (*static_cast<const std::function<void(bool)>*>(closure))(false);
}
void on_reconnected(natsConnection*, void* closure) {
  (*static_cast<const std::function<void(bool)>*>(closure))(true);
}

}  // namespace

void ConnectionConfig::apply_environment() {
  from_env(servers, "NATS_URL");
  from_env(creds, "NATS_CREDS");
  from_env(user, "NATS_USER");
  from_env(password, "NATS_PASSWORD");
  from_env(token, "NATS_TOKEN");
  from_env(tlsca, "NATS_CA");
  from_env(tlscert, "NATS_CERT");
  from_env(tlskey, "NATS_KEY");
  if (servers.empty()) servers = "nats://127.0.0.1:4222";
}

void ConnectionConfig::add_flags(CLI::App& app) {
  app.add_option("-s,--server", servers, "NATS server URLs, comma separated (env NATS_URL)");
  app.add_option("--creds", creds, "user credentials file (env NATS_CREDS)");
  app.add_option("--user", user, "user name (env NATS_USER)");
  app.add_option("--password", password, "password (env NATS_PASSWORD)");
  app.add_option("--token", token, "authentication token (env NATS_TOKEN)");
  app.add_option("--tlsca", tlsca, "CA certificate to verify the server (env NATS_CA)");
  app.add_option("--tlscert", tlscert, "client certificate (env NATS_CERT)");
  app.add_option("--tlskey", tlskey, "client private key (env NATS_KEY)");
}

Result<ConnectionPtr> connect(const ConnectionConfig& config, ConnectOptions options) {
  natsOptions* raw = nullptr;
  if (auto s = natsOptions_Create(&raw); s != NATS_OK) return nats_status(s, "options");
  OptionsPtr opts(raw);

  auto urls = split_servers(config.servers);
  if (urls.empty()) return Status(Errc::invalid_argument, "no NATS server URL given");
  std::vector<const char*> url_ptrs;
  for (auto& u : urls) url_ptrs.push_back(u.c_str());

  natsStatus s = natsOptions_SetServers(opts.get(), url_ptrs.data(), static_cast<int>(url_ptrs.size()));
  if (s == NATS_OK) s = natsOptions_SetName(opts.get(), config.name.c_str());
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts.get(), config.connect_timeout_ms);
  if (s == NATS_OK) s = natsOptions_SetSendAsap(opts.get(), options.send_asap);
  if (s == NATS_OK && !config.creds.empty())
    s = natsOptions_SetUserCredentialsFromFiles(opts.get(), config.creds.c_str(), nullptr);
  if (s == NATS_OK && !config.user.empty())
    s = natsOptions_SetUserInfo(opts.get(), config.user.c_str(), config.password.c_str());
  if (s == NATS_OK && !config.token.empty()) s = natsOptions_SetToken(opts.get(), config.token.c_str());
  if (s == NATS_OK && !config.tlsca.empty()) {
    s = natsOptions_SetSecure(opts.get(), true);
    if (s == NATS_OK) s = natsOptions_LoadCATrustedCertificates(opts.get(), config.tlsca.c_str());
  }
  if (s == NATS_OK && !config.tlscert.empty())
    s = natsOptions_LoadCertificatesChain(opts.get(), config.tlscert.c_str(), config.tlskey.c_str());
  if (s == NATS_OK && options.reconnect_forever) {
    s = natsOptions_SetMaxReconnect(opts.get(), -1);
    if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts.get(), 250);
    if (s == NATS_OK) s = natsOptions_SetRetryOnFailedConnect(opts.get(), false, nullptr, nullptr);
  }
  if (s == NATS_OK && options.on_connection_change) {
    auto* box = const_cast<std::function<void(bool)>*>(options.on_connection_change);
    s = natsOptions_SetDisconnectedCB(opts.get(), on_disconnected, box);
    if (s == NATS_OK) s = natsOptions_SetReconnectedCB(opts.get(), on_reconnected, box);
  }
  if (s != NATS_OK) return nats_status(s, "connection options");
  if (options.event_loop != nullptr) {
    if (auto st = use_event_loop(opts.get(), options.event_loop); !st) return st;
  }

  natsConnection* conn = nullptr;
  s = natsConnection_Connect(&conn, opts.get());
  if (s != NATS_OK) return nats_status(s, "cannot connect to " + config.servers);
  return ConnectionPtr(conn);
}

Result<LoopConnections> connect_loop_daemon(const ConnectionConfig& config, uv_loop_t* loop,
                                            ConnectOptions data_options) {
  ConnectOptions control_options;
  control_options.reconnect_forever = true;
  auto control = connect(config, control_options);
  if (!control) return control.status();
  data_options.reconnect_forever = true;
  data_options.event_loop = loop;
  auto data = connect(config, data_options);
  if (!data) return data.status();
  return LoopConnections{std::move(control).value(), std::move(data).value()};
}

}  // namespace natsfn
