#pragma once
// How to start a worker for a function: which interpreter or executable, with which arguments and
// which (scrubbed) environment. Interpreters are resolved once at start-up, not per spawn.

#include <string>

#include "core/function_config.hpp"
#include "core/status.hpp"
#include "sidecar/src/worker_process.hpp"

namespace natsfn {

struct RuntimePaths {
  std::string node;          // absolute path to node
  std::string python;        // absolute path to python3 (a real interpreter, not a shim)
  std::string runtimes_dir;  // holds node/bootstrap.js and python/bootstrap.py
  std::string launcher;      // natsfn-worker-launch; empty: workers are exec'd directly

  // Fills empty fields: node and python3 from PATH (preferring Debian's /usr/bin/python3 over
  // version-manager shims, which cost ~80 ms per start), runtimes and the launcher next to the
  // executable.
  Status resolve(const std::string& executable_dir);
};

// The spawn spec for one worker of `config`, with the package extracted at `package_dir`.
Result<SpawnSpec> runtime_command(const FunctionConfig& config, const std::string& package_dir,
                                  const RuntimePaths& paths);

// Searches PATH for an executable; empty when absent.
std::string find_in_path(const std::string& name);

}  // namespace natsfn
