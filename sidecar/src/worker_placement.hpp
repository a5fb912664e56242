#pragma once
// Where a worker runs while it serves an invocation.
//
// At low load every request crosses two process wake-ups: sidecar → worker → sidecar. When the
// worker is woken on the other CPU, that CPU has to be woken first (an IPI and, in a VM, an exit
// from idle); on the sidecar's own CPU the worker simply runs once the sidecar goes back to
// epoll_wait. So while one invocation is the only one in flight, its worker is pinned to the CPU
// the sidecar is running on; as soon as more are in flight, workers get the sidecar's whole CPU
// set back and spread out. Measured with bench/sidecar_bench.sh (2 cores): K=1 0.77–0.83× in seven
// runs against 0.70–0.85× (median 0.73×) unplaced; K=64 unchanged. A syscall is made only when a
// worker's placement changes.
//
// Loop thread only.

#include <sched.h>
#include <sys/types.h>

#include <cstddef>

namespace natsfn {

class WorkerPlacement {
 public:
  static constexpr int kAnyCpu = -1;  // the sidecar's own CPU set

  explicit WorkerPlacement(bool enabled);

  // Right before `pid` is handed an invocation. `placed` is where this worker was last put
  // (kAnyCpu at spawn: workers inherit the sidecar's set); updated when it moves.
  void dispatching(pid_t pid, int& placed);
  // That invocation ended (result, timeout, crash).
  void finished();

 private:
  bool enabled_;
  size_t in_flight_ = 0;
  cpu_set_t own_{};  // the sidecar's CPU set: what kAnyCpu restores
};

}  // namespace natsfn
