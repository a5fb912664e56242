#include "sidecar/src/worker_placement.hpp"

namespace natsfn {

WorkerPlacement::WorkerPlacement(bool enabled) : enabled_(enabled) {
  // Respect what the operator gave the sidecar (taskset, a cpuset cgroup).
  if (enabled_ && ::sched_getaffinity(0, sizeof own_, &own_) != 0) enabled_ = false;
}

void WorkerPlacement::dispatching(pid_t pid, int& placed) {
  ++in_flight_;
  if (!enabled_) return;
  int target = in_flight_ == 1 ? ::sched_getcpu() : kAnyCpu;
  if (target < 0) target = kAnyCpu;
  if (target == placed) return;
  cpu_set_t set = own_;
  if (target != kAnyCpu) {
    CPU_ZERO(&set);
    CPU_SET(target, &set);
  }
  // Best effort: a worker under another uid may refuse, and nothing depends on it.
  if (::sched_setaffinity(pid, sizeof set, &set) == 0) placed = target;
}

void WorkerPlacement::finished() {
  if (in_flight_ > 0) --in_flight_;
}

}  // namespace natsfn
