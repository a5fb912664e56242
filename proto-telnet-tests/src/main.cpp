// natsfn-proto-telnet: replays plain-text NATS protocol transcripts over a raw TCP socket, the
// way a person types them into telnet. No NATS client library is involved on purpose: these
// tests prove that natsfn works for the most basic client there is.
#include <CLI/CLI.hpp>
#include <iostream>
#include <string>
#include <vector>

#include "session.hpp"
#include "transcript.hpp"

namespace {

// Accepts HOST:PORT, nats://HOST:PORT and [v6addr]:PORT.
bool split_server(std::string server, natsfn::telnet::SessionOptions& options) {
  if (const auto scheme = server.find("://"); scheme != std::string::npos) {
    server.erase(0, scheme + 3);
  }
  const auto colon = server.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == server.size()) return false;
  std::string host = server.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  options.host = host;
  options.port = server.substr(colon + 1);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Replays plain-text NATS protocol transcripts against a server, like telnet."};
  std::string server = "127.0.0.1:4222";
  long timeout_ms = 5000;
  bool verbose = false;
  bool print_requirements = false;
  std::vector<std::string> files;
  app.add_option("--server", server, "HOST:PORT of the NATS server")->capture_default_str();
  app.add_option("--timeout-ms", timeout_ms, "How long each expectation may wait")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_flag("-v,--verbose", verbose, "Trace every send and every received item to stderr");
  app.add_flag("--print-requires", print_requirements,
               "Print each file's `#! requires:` words (one line per file) and exit");
  app.add_option("FILE", files, "Transcript files, each played on its own connection")->required();
  CLI11_PARSE(app, argc, argv);

  natsfn::telnet::SessionOptions options;
  options.timeout = std::chrono::milliseconds(timeout_ms);
  options.verbose = verbose;
  if (!split_server(server, options)) {
    std::cerr << "natsfn-proto-telnet: --server must be HOST:PORT, got \"" << server << "\"\n";
    return 2;
  }

  // Parse every transcript before connecting, so a typo fails fast and names its line.
  std::vector<natsfn::telnet::Transcript> transcripts;
  try {
    for (const auto& file : files) {
      transcripts.push_back(natsfn::telnet::load_transcript(file, natsfn::telnet::process_env));
    }
  } catch (const natsfn::telnet::TranscriptError& e) {
    std::cerr << "natsfn-proto-telnet: " << e.what() << "\n";
    return 2;
  }

  if (print_requirements) {
    for (const auto& transcript : transcripts) {
      std::string line;
      for (const auto& word : transcript.requirements) line += (line.empty() ? "" : " ") + word;
      std::cout << line << "\n";
    }
    return 0;
  }

  int failed = 0;
  for (const auto& transcript : transcripts) {
    const auto result = natsfn::telnet::run_transcript(transcript, options);
    (result.passed ? std::cout : std::cerr) << result.report << (result.passed ? "\n" : "");
    if (!result.passed) ++failed;
  }
  if (failed > 0) {
    std::cerr << failed << " of " << transcripts.size() << " transcript(s) failed\n";
    return 1;
  }
  return 0;
}
