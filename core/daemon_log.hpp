#pragma once
// Logging set-up for the daemons (sidecar, HTTP bridge): spdlog's default logger on stdout, one
// line per event with the pattern below.
//
// On a terminal every line is flushed, in colour. Anywhere else (a file, a pipe to journald) a
// daemon that logs per request can ask for `periodic` flushing: lines go through stdio's buffer,
// flushed every 100 ms and at once for warnings and errors. Flushing each line cost the HTTP
// bridge a write(2) per request for its access log (strace: one of its four syscalls per request).

#include <string>

namespace natsfn {

enum class LogFlush { every_line, periodic };
void setup_daemon_logging(const std::string& level, LogFlush flush = LogFlush::every_line);
// Writes out what is buffered and stops the periodic flusher: call before exiting.
void shutdown_daemon_logging();

}  // namespace natsfn
