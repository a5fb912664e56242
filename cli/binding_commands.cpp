// natsfn bind|unbind|bindings
#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/cli_context.hpp"
#include "cli/output.hpp"

using json = nlohmann::json;

namespace natsfn::cli {
namespace {

std::vector<std::string> split_methods(const std::string& csv) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < csv.size()) {
    size_t comma = csv.find(',', start);
    if (comma == std::string::npos) comma = csv.size();
    std::string m = csv.substr(start, comma - start);
    for (char& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (!m.empty()) out.push_back(m);
    start = comma + 1;
  }
  return out;
}

struct BindTarget {
  std::string subject, http, methods;

  void add(CLI::App* cmd) {
    auto* s = cmd->add_option("-s,--subject", subject, "NATS subject");
    auto* h = cmd->add_option("--http", http, "HTTP route for natsfn-http, e.g. /things/{id}");
    s->excludes(h);
    cmd->add_option("--method", methods, "HTTP methods, comma separated (default: any)");
  }

  Binding binding(const std::string& function) const {
    if (!subject.empty()) return Binding::nats(subject, function);
    if (!http.empty()) return Binding::http(http, split_methods(methods), function);
    throw CliError("give -s SUBJECT or --http PATH");
  }
};

}  // namespace

void add_binding_commands(CLI::App& app, CliContext& ctx) {
  static BindTarget bind_target;
  static std::string bind_function;
  auto* bind = app.add_subcommand("bind", "route a NATS subject (or HTTP path) to a function");
  bind_target.add(bind);
  bind->add_option("-f,--function", bind_function, "function name")->required();
  bind->callback([&ctx] {
    Binding b = bind_target.binding(bind_function);
    check(b.validate());
    auto& cat = ctx.catalogue(true);
    auto f = cat.get_function(bind_function);
    if (!f && f.status().code() == Errc::not_found)
      throw CliError("unknown function '" + bind_function + "' (create it first: natsfn fn create)");
    check(f.status());
    check(cat.put_binding(b));
    if (ctx.json)
      std::cout << b.to_json() << "\n";
    else
      std::cout << "bound " << b.target() << " -> " << b.function << "\n";
  });

  static BindTarget unbind_target;
  auto* unbind = app.add_subcommand("unbind", "remove a binding");
  unbind_target.add(unbind);
  unbind->callback([&ctx] {
    Binding b = unbind_target.binding("x");
    auto status = ctx.catalogue().delete_binding(b.key());
    if (status.code() == Errc::not_found) throw CliError("no binding for " + b.target());
    check(status);
    if (!ctx.json) std::cout << "unbound " << b.target() << "\n";
  });

  app.add_subcommand("bindings", "list bindings")->callback([&ctx] {
    auto listing = check(ctx.catalogue().list_bindings());
    for (auto& p : listing.problems) std::cerr << "natsfn: warning: " << p.message() << "\n";
    if (ctx.json) {
      json j = json::array();
      for (auto& b : listing.items) j.push_back(json::parse(b.to_json()));
      std::cout << j.dump(2) << "\n";
      return;
    }
    std::vector<std::vector<std::string>> rows;
    for (auto& b : listing.items)
      rows.push_back({b.type == Binding::Type::nats ? "nats" : "http", b.target(), b.function});
    print_table({"TYPE", "TARGET", "FUNCTION"}, rows);
  });
}

}  // namespace natsfn::cli
