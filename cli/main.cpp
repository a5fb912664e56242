// natsfn: the command line. Connection flags follow the nats CLI; every failure is one line.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/cli_context.hpp"

int main(int argc, char** argv) {
  natsfn::cli::CliContext ctx;
  CLI::App app{"natsfn: Lambda-style functions on NATS"};
  app.require_subcommand(1);
  ctx.connection.add_flags(app);
  app.add_flag("--json", ctx.json, "machine-readable output");
  app.add_option("--replicas", ctx.replicas, "replicas for buckets created by this command");
  natsfn::cli::add_package_commands(app, ctx);
  natsfn::cli::add_function_commands(app, ctx);
  natsfn::cli::add_binding_commands(app, ctx);
  natsfn::cli::add_invoke_commands(app, ctx);
  int rc = 0;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    rc = app.exit(e);
  } catch (const natsfn::cli::CliError& e) {
    std::cerr << "natsfn: error: " << e.what() << "\n";
    rc = 1;
  }
  return rc;
}
