// natsfn fn create|ls|info|rm and natsfn deploy
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/cli_context.hpp"
#include "cli/output.hpp"
#include "core/duration.hpp"
#include "core/manifest.hpp"
#include "core/package_archive.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace natsfn::cli {
namespace {

// Flags shared by `fn create` and `deploy`; set ones override the manifest.
struct FunctionFlags {
  std::string package, runtime, handler, mode, timeout;
  std::optional<int64_t> memory, warm, concurrency, queue;
  std::vector<std::string> env;

  void add(CLI::App* cmd) {
    cmd->add_option("--package,-p", package, "package name in the Object Store");
    cmd->add_option("--runtime", runtime, "node, python or exec (and Lambda aliases)");
    cmd->add_option("--handler", handler, "file.function (node/python) or executable path (exec)");
    cmd->add_option("--mode", mode, "exec only: persistent (default) or oneshot");
    cmd->add_option("--timeout", timeout, "e.g. 3s, 500ms (default 3s)");
    cmd->add_option("--memory", memory, "memory limit in MiB (default 128)");
    cmd->add_option("--warm", warm, "standby workers kept ready on each sidecar (default 0)");
    cmd->add_option("--concurrency", concurrency, "max workers per sidecar (default 10)");
    cmd->add_option("--queue", queue, "max requests waiting per sidecar (default 100)");
    cmd->add_option("--env", env, "K=V environment variable (repeatable)");
  }

  void apply(FunctionConfig& f) const {
    if (!runtime.empty()) f.runtime = runtime;
    if (!handler.empty()) f.handler = handler;
    if (!mode.empty()) f.mode = mode;
    if (!timeout.empty()) f.timeout_ms = check(parse_duration(timeout));
    if (memory) f.memory_mb = *memory;
    if (warm) f.min_warm = *warm;
    if (concurrency) f.max_concurrency = *concurrency;
    if (queue) f.max_queue = *queue;
    for (auto& kv : env) {
      auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) throw CliError("--env '" + kv + "': use KEY=VALUE");
      f.env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
  }
};

void apply_manifest(const Manifest& m, FunctionConfig& f) {
  f.runtime = m.runtime;
  f.handler = m.handler;
  f.mode = m.mode;
  if (m.timeout_ms) f.timeout_ms = *m.timeout_ms;
  if (m.memory_mb) f.memory_mb = *m.memory_mb;
  if (m.min_warm) f.min_warm = *m.min_warm;
  if (m.max_concurrency) f.max_concurrency = *m.max_concurrency;
  if (m.max_queue) f.max_queue = *m.max_queue;
  f.env = m.env;
}

json function_json(const FunctionConfig& f) { return json::parse(f.to_json()); }

// Pins the package's current digest and stores the function.
void create_function(CliContext& ctx, FunctionConfig& f) {
  check(f.package.empty() ? Status(Errc::invalid_argument, "--package is required") : Status());
  auto pkg = ctx.packages().info(f.package);
  if (!pkg && pkg.status().code() == Errc::not_found)
    throw CliError("package '" + f.package + "' not found (push it first: natsfn package push)");
  f.digest = check(std::move(pkg)).digest;
  check(ctx.catalogue(true).put_function(f));
  if (ctx.json)
    std::cout << function_json(f).dump(2) << "\n";
  else
    std::cout << "function " << f.name << " -> package " << f.package << " (" << f.digest
              << "), " << f.runtime << " " << f.handler << "\n";
}

}  // namespace

void add_function_commands(CLI::App& app, CliContext& ctx) {
  auto* fn = app.add_subcommand("fn", "functions")->require_subcommand(1);

  static std::string create_name;
  static FunctionFlags create_flags;
  auto* create = fn->add_subcommand("create", "create or update a function, pinning its package digest");
  create->add_option("name", create_name)->required();
  create_flags.add(create);
  create->callback([&ctx] {
    FunctionConfig f;
    f.name = create_name;
    f.package = create_flags.package;
    // An update keeps what it does not change.
    if (auto old = ctx.catalogue(true).get_function(create_name); old.ok()) {
      f = *old;
      if (!create_flags.package.empty()) f.package = create_flags.package;
    } else if (create_flags.runtime.empty() || create_flags.handler.empty()) {
      throw CliError("fn create " + create_name + ": --runtime and --handler are required");
    }
    create_flags.apply(f);
    create_function(ctx, f);
  });

  static std::string deploy_path, deploy_name;
  static FunctionFlags deploy_flags;
  auto* deploy = app.add_subcommand("deploy", "push a package and create its function from natsfn.json");
  deploy->add_option("path", deploy_path, "package directory or archive with natsfn.json")->required();
  deploy->add_option("--name", deploy_name, "function and package name (default: manifest name)");
  deploy_flags.add(deploy);
  deploy->callback([&ctx] {
    std::error_code ec;
    if (!fs::exists(deploy_path, ec)) throw CliError("'" + deploy_path + "': file not found");
    Manifest m;
    if (fs::is_directory(deploy_path)) {
      m = check(load_manifest_from_dir(deploy_path));
    } else {
      check(check_package_file(deploy_path));
      auto found = check(read_manifest_from_archive(deploy_path));
      if (found) {
        m = *found;
      } else if (deploy_flags.runtime.empty() || deploy_flags.handler.empty()) {
        throw CliError("'" + deploy_path + "' has no natsfn.json: give --runtime and --handler");
      }
      if (m.name.empty()) m.name = default_package_name(deploy_path);
    }
    FunctionConfig f;
    f.name = deploy_name.empty() ? m.name : deploy_name;
    apply_manifest(m, f);
    deploy_flags.apply(f);
    f.package = deploy_flags.package.empty() ? f.name : deploy_flags.package;
    f.digest = "SHA-256=pending";  // validate everything but the digest before pushing
    check(f.validate());
    auto info = push_package(ctx, deploy_path, f.package);
    if (!ctx.json) std::cout << "pushed package " << info.name << " (" << human_bytes(info.size) << ")\n";
    create_function(ctx, f);
  });

  fn->add_subcommand("ls", "list functions")->callback([&ctx] {
    auto listing = check(ctx.catalogue().list_functions());
    for (auto& p : listing.problems) std::cerr << "natsfn: warning: " << p.message() << "\n";
    if (ctx.json) {
      json j = json::array();
      for (auto& f : listing.items) j.push_back(function_json(f));
      std::cout << j.dump(2) << "\n";
      return;
    }
    std::vector<std::vector<std::string>> rows;
    for (auto& f : listing.items)
      rows.push_back({f.name, f.runtime, f.handler, f.package, format_duration(f.timeout_ms),
                      std::to_string(f.min_warm), std::to_string(f.max_concurrency)});
    print_table({"NAME", "RUNTIME", "HANDLER", "PACKAGE", "TIMEOUT", "WARM", "CONCURRENCY"}, rows);
  });

  static std::string info_name;
  auto* info = fn->add_subcommand("info", "show one function");
  info->add_option("name", info_name)->required();
  info->callback([&ctx] {
    auto f = check(ctx.catalogue().get_function(info_name));
    if (ctx.json) {
      std::cout << function_json(f).dump(2) << "\n";
      return;
    }
    std::string env;
    for (auto& [k, v] : f.env) env += (env.empty() ? "" : " ") + k + "=" + v;
    print_table({"FIELD", "VALUE"},
                {{"name", f.name}, {"package", f.package}, {"digest", f.digest},
                 {"runtime", f.runtime}, {"handler", f.handler}, {"mode", f.mode},
                 {"timeout", format_duration(f.timeout_ms)},
                 {"memory", std::to_string(f.memory_mb) + " MiB"},
                 {"min_warm", std::to_string(f.min_warm)},
                 {"max_concurrency", std::to_string(f.max_concurrency)},
                 {"max_queue", std::to_string(f.max_queue)}, {"env", env},
                 {"subject", "natsfn.invoke." + f.name}});
  });

  static std::string rm_name;
  auto* rm = fn->add_subcommand("rm", "delete a function");
  rm->add_option("name", rm_name)->required();
  rm->callback([&ctx] {
    check(ctx.catalogue().delete_function(rm_name));
    if (ctx.json) return;
    std::cout << "removed function " << rm_name << "\n";
    if (auto b = ctx.catalogue().list_bindings(); b.ok()) {
      for (auto& binding : b->items)
        if (binding.function == rm_name)
          std::cerr << "natsfn: note: binding " << binding.target()
                    << " still points at it (natsfn unbind)\n";
    }
  });
}

}  // namespace natsfn::cli
