#pragma once

#include <chrono>
#include <string>

#include "transcript.hpp"

namespace natsfn::telnet {

struct SessionOptions {
  std::string host = "127.0.0.1";
  std::string port = "4222";
  std::chrono::milliseconds timeout{5000};  // per expectation, and for the TCP connect
  bool verbose = false;                     // trace every byte sent and item received to stderr
};

struct SessionResult {
  bool passed = false;
  std::string report;  // `PASS name` or the multi-line failure diagnostic
};

/// Plays one transcript over a fresh TCP connection, as a person at a telnet prompt would:
/// no CONNECT unless the transcript sends one, +OK and INFO lines skipped and server PINGs
/// answered with PONG unless the expectation at hand asks for them.
SessionResult run_transcript(const Transcript& transcript, const SessionOptions& options);

}  // namespace natsfn::telnet
