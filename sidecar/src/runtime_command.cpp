#include "sidecar/src/runtime_command.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "core/names.hpp"

namespace fs = std::filesystem;

namespace natsfn {
namespace {

bool executable(const std::string& p) { return !p.empty() && ::access(p.c_str(), X_OK) == 0; }

// Reserved variables are set last so a function's env cannot redirect the runtime.
std::vector<std::string> worker_environment(const FunctionConfig& c, const std::string& root) {
  std::vector<std::string> env;
  for (auto& [k, v] : c.env) env.push_back(k + "=" + v);
  env.push_back("PATH=/usr/local/bin:/usr/bin:/bin");
  env.push_back("LANG=C.UTF-8");
  env.push_back("HOME=" + root);
  env.push_back("TZ=:UTC");
  env.push_back("LAMBDA_TASK_ROOT=" + root);
  env.push_back("LAMBDA_RUNTIME_DIR=" + root);
  env.push_back("NATSFN_HANDLER=" + c.handler);
  env.push_back("_HANDLER=" + c.handler);
  env.push_back("AWS_LAMBDA_FUNCTION_NAME=" + c.name);
  env.push_back("AWS_LAMBDA_FUNCTION_VERSION=" + c.digest);
  env.push_back("AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + std::to_string(c.memory_mb));
  env.push_back("AWS_EXECUTION_ENV=natsfn_" + c.runtime);
  env.push_back("NATSFN_MEMORY_MB=" + std::to_string(c.memory_mb));
  env.push_back("NATSFN_TIMEOUT_MS=" + std::to_string(c.timeout_ms));
  return env;
}

}  // namespace

std::string find_in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= p.size()) {
    size_t colon = p.find(':', start);
    if (colon == std::string::npos) colon = p.size();
    std::string candidate = p.substr(start, colon - start) + "/" + name;
    if (executable(candidate)) return candidate;
    start = colon + 1;
  }
  return "";
}

Status RuntimePaths::resolve(const std::string& executable_dir) {
  if (node.empty()) node = find_in_path("node");
  if (python.empty()) python = executable("/usr/bin/python3") ? "/usr/bin/python3" : find_in_path("python3");
  if (launcher.empty() && executable(executable_dir + "/natsfn-worker-launch"))
    launcher = executable_dir + "/natsfn-worker-launch";
  if (runtimes_dir.empty()) {
    for (auto candidate : {fs::path(executable_dir) / "runtimes",
                           fs::path(executable_dir) / "../share/natsfn/runtimes"}) {
      if (fs::exists(candidate / "node" / "bootstrap.js")) {
        runtimes_dir = fs::weakly_canonical(candidate).string();
        break;
      }
    }
  }
  return Status::OK();
}

Result<SpawnSpec> runtime_command(const FunctionConfig& c, const std::string& package_dir,
                                  const RuntimePaths& paths) {
  SpawnSpec spec;
  spec.cwd = package_dir;
  spec.env = worker_environment(c, package_dir);
  std::string runtime = canonical_runtime(c.runtime);
  if (runtime == "node") {
    if (paths.node.empty()) return Status(Errc::init_failed, "node is not installed on this host");
    if (paths.runtimes_dir.empty())
      return Status(Errc::init_failed, "node bootstrap not found (use --runtimes-dir)");
    // V8 enforces the memory limit; an address-space rlimit would break its reservations.
    spec.argv = {paths.node, "--max-old-space-size=" + std::to_string(c.memory_mb),
                 paths.runtimes_dir + "/node/bootstrap.js"};
  } else if (runtime == "python") {
    if (paths.python.empty())
      return Status(Errc::init_failed, "python3 is not installed on this host");
    if (paths.runtimes_dir.empty())
      return Status(Errc::init_failed, "python bootstrap not found (use --runtimes-dir)");
    spec.argv = {paths.python, "-u", paths.runtimes_dir + "/python/bootstrap.py"};
  } else if (runtime == "exec") {
    std::string exe = (fs::path(package_dir) / c.handler).lexically_normal().string();
    if (!executable(exe))
      return Status(Errc::init_failed, "handler '" + c.handler + "' is not an executable file in the package");
    spec.argv = {exe};
    spec.oneshot = c.mode == "oneshot";
  } else {
    return Status(Errc::init_failed, "unknown runtime '" + c.runtime + "'");
  }
  if (!paths.launcher.empty()) {
    // Spawned by this process: the launcher checks that its parent is still us.
    spec.argv.insert(spec.argv.begin(), {paths.launcher, std::to_string(::getpid())});
  }
  return spec;
}

}  // namespace natsfn
