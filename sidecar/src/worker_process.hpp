#pragma once
// One function process and its pipes, owned by the loop thread.
//
// persistent: fd 3 is a socketpair carrying frames; stdout/stderr are log lines.
// oneshot:    the event goes to stdin, stdout is the result, stderr is log lines.
//
// Lifetime: spawn() returns a heap object that frees itself. The owner calls release() when it no
// longer wants callbacks; the object then kills the process group if it still runs, waits for the
// exit (so the child is always reaped), closes every libuv handle and deletes itself in the last
// close callback.

#include <sys/types.h>
#include <uv.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/frame_codec.hpp"
#include "core/status.hpp"
#include "sidecar/src/line_splitter.hpp"

namespace natsfn {

class WorkerProcess;

class WorkerListener {
 public:
  virtual ~WorkerListener() = default;
  virtual void on_frame(WorkerProcess& w, WorkerFrame&& frame) = 0;
  virtual void on_log(WorkerProcess& w, bool is_stderr, std::string_view line) = 0;
  // The process has exited and its output is drained. The listener must release() it.
  virtual void on_exit(WorkerProcess& w, int64_t exit_status, int term_signal) = 0;
  // The worker spoke out of protocol (bad frame); it has been killed and on_exit follows.
  virtual void on_protocol_error(WorkerProcess& w, const Status& why) = 0;
};

struct SpawnSpec {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // "KEY=value", the whole environment
  std::string cwd;
  bool oneshot = false;
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  uint64_t max_stdout_bytes = 8u << 20;  // oneshot result cap
};

class WorkerProcess {
 public:
  static Result<WorkerProcess*> spawn(uv_loop_t* loop, const SpawnSpec& spec,
                                      WorkerListener* listener);

  // persistent: writes one encoded frame to fd 3. oneshot: writes the event to stdin, then
  // closes stdin.
  Status send(std::string bytes);
  // SIGKILL to the whole process group (the worker runs in its own session).
  void kill_group();
  // Asks the worker to leave: closes its end of the protocol so it sees EOF; killed if it is still
  // there after the grace period.
  void stop(uint64_t grace_ms = 2000);
  // No more callbacks; the object frees itself once the process is reaped and handles closed.
  void release();

  pid_t pid() const { return pid_; }
  uint64_t id() const { return id_; }
  bool exited() const { return exited_; }
  // The last few KiB of stderr, for crash reports.
  std::string stderr_tail() const;
  const std::string& stdout_data() const { return stdout_data_; }
  bool stdout_overflowed() const { return stdout_overflow_; }

  void* owner_data = nullptr;  // the pool's bookkeeping

 private:
  WorkerProcess(uv_loop_t* loop, WorkerListener* listener, bool oneshot);
  ~WorkerProcess() = default;

  static void on_exit_cb(uv_process_t* p, int64_t status, int signal);
  static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf);
  void handle_bytes(uv_stream_t* s, const char* data, size_t len);
  void pipe_closed_for_reading(uv_stream_t* s);
  void maybe_report_exit();
  void close_all();
  void close_handle(uv_handle_t* h);
  static void on_handle_closed(uv_handle_t* h);

  uv_loop_t* loop_;
  WorkerListener* listener_;
  bool oneshot_;
  uint64_t id_;
  pid_t pid_ = 0;

  uv_process_t process_{};
  uv_pipe_t frames_{};  // fd 3 (persistent) or stdin (oneshot)
  uv_pipe_t out_{};
  uv_pipe_t err_{};
  uv_timer_t timer_{};  // exit-drain cap and stop grace

  bool released_ = false;
  bool exited_ = false;
  bool reported_ = false;
  bool closing_ = false;
  int64_t exit_status_ = 0;
  int term_signal_ = 0;
  int open_readers_ = 0;
  int open_handles_ = 0;

  FrameReader reader_;
  LineSplitter out_lines_;
  LineSplitter err_lines_;
  std::string err_tail_;
  std::string stdout_data_;
  uint64_t max_stdout_ = 0;
  bool stdout_overflow_ = false;
  char read_buf_[64 * 1024];
};

}  // namespace natsfn
