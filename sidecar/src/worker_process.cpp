#include "sidecar/src/worker_process.hpp"

#include <sched.h>
#include <signal.h>

#include <atomic>

namespace natsfn {
namespace {

constexpr size_t kStderrTail = 4096;
constexpr uint64_t kExitDrainMs = 200;  // grandchildren may hold our pipes open after exit
std::atomic<uint64_t> next_worker_id{1};

struct WriteReq {
  uv_write_t req;
  std::string data;
  bool close_after;
};

}  // namespace

WorkerProcess::WorkerProcess(uv_loop_t* loop, WorkerListener* listener, bool oneshot)
    : loop_(loop), listener_(listener), oneshot_(oneshot), id_(next_worker_id++) {}

Result<WorkerProcess*> WorkerProcess::spawn(uv_loop_t* loop, const SpawnSpec& spec,
                                            WorkerListener* listener) {
  if (spec.argv.empty()) return Status(Errc::internal, "spawn: empty argv");
  auto* w = new WorkerProcess(loop, listener, spec.oneshot);
  w->max_stdout_ = spec.max_stdout_bytes;
  uv_pipe_init(loop, &w->frames_, 0);
  uv_pipe_init(loop, &w->out_, 0);
  uv_pipe_init(loop, &w->err_, 0);
  uv_timer_init(loop, &w->timer_);
  for (uv_handle_t* h :
       {reinterpret_cast<uv_handle_t*>(&w->frames_), reinterpret_cast<uv_handle_t*>(&w->out_),
        reinterpret_cast<uv_handle_t*>(&w->err_), reinterpret_cast<uv_handle_t*>(&w->timer_),
        reinterpret_cast<uv_handle_t*>(&w->process_)}) {
    h->data = w;
  }
  w->open_handles_ = 5;

  std::vector<char*> argv;
  for (auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> env;
  for (auto& e : spec.env) env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);

  uv_stdio_container_t stdio[4];
  auto out_flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[1].flags = out_flags;
  stdio[1].data.stream = reinterpret_cast<uv_stream_t*>(&w->out_);
  stdio[2].flags = out_flags;
  stdio[2].data.stream = reinterpret_cast<uv_stream_t*>(&w->err_);
  int stdio_count = 3;
  if (spec.oneshot) {
    stdio[0].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_READABLE_PIPE);
    stdio[0].data.stream = reinterpret_cast<uv_stream_t*>(&w->frames_);
  } else {
    stdio[0].flags = UV_IGNORE;
    // libuv makes UV_CREATE_PIPE a socketpair: the worker's fd 3 is our frame channel.
    stdio[3].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_READABLE_PIPE | UV_WRITABLE_PIPE);
    stdio[3].data.stream = reinterpret_cast<uv_stream_t*>(&w->frames_);
    stdio_count = 4;
  }

  uv_process_options_t opts{};
  opts.exit_cb = &WorkerProcess::on_exit_cb;
  opts.file = argv[0];
  opts.args = argv.data();
  opts.env = env.data();
  opts.cwd = spec.cwd.empty() ? nullptr : spec.cwd.c_str();
  opts.stdio = stdio;
  opts.stdio_count = stdio_count;
  // Its own session and process group, so a timeout can kill everything it started.
  opts.flags = UV_PROCESS_DETACHED;
  if (spec.uid) {
    opts.flags |= UV_PROCESS_SETUID;
    opts.uid = *spec.uid;
  }
  if (spec.gid) {
    opts.flags |= UV_PROCESS_SETGID;
    opts.gid = *spec.gid;
  }

  int rc = uv_spawn(loop, &w->process_, &opts);
  if (rc != 0) {
    // libuv requires closing the process handle even when spawn fails.
    w->exited_ = w->reported_ = w->released_ = true;
    w->close_all();
    return Status(Errc::init_failed, "cannot start '" + spec.argv[0] + "': " + uv_strerror(rc));
  }
  w->pid_ = w->process_.pid;
  // SCHED_BATCH: a worker woken by its next event does not preempt the sidecar in the middle of
  // dispatching a batch; it runs when the sidecar blocks or on the other core. Measured at K=64:
  // half the sidecar's context switches, about 6% more throughput. Best effort: a worker under
  // another uid may refuse it, and nothing depends on it.
  sched_param param{};
  ::sched_setscheduler(w->pid_, SCHED_BATCH, &param);
  uv_read_start(reinterpret_cast<uv_stream_t*>(&w->out_), on_alloc, on_read);
  uv_read_start(reinterpret_cast<uv_stream_t*>(&w->err_), on_alloc, on_read);
  w->open_readers_ = 2;
  if (!spec.oneshot) uv_read_start(reinterpret_cast<uv_stream_t*>(&w->frames_), on_alloc, on_read);
  return w;
}

Status WorkerProcess::send(std::string bytes) {
  auto* h = reinterpret_cast<uv_handle_t*>(&frames_);
  if (closing_ || uv_is_closing(h)) return Status(Errc::worker_crashed, "worker channel closed");
  auto* stream = reinterpret_cast<uv_stream_t*>(&frames_);
  if (!oneshot_ && uv_stream_get_write_queue_size(stream) == 0) {
    // The common case: the frame fits the socket buffer. uv_try_write is the bare syscall;
    // uv_write would add a request allocation and an epoll_ctl per frame (measured: 1.25
    // epoll_ctl per invocation at K=64).
    uv_buf_t buf = uv_buf_init(bytes.data(), static_cast<unsigned>(bytes.size()));
    int n = uv_try_write(stream, &buf, 1);
    if (n == static_cast<int>(bytes.size())) return Status::OK();
    if (n > 0) bytes.erase(0, static_cast<size_t>(n));
    else if (n != UV_EAGAIN)
      return Status(Errc::worker_crashed, std::string("write to worker failed: ") + uv_strerror(n));
  }
  auto* req = new WriteReq{{}, std::move(bytes), oneshot_};
  req->req.data = req;
  uv_buf_t buf = uv_buf_init(req->data.data(), static_cast<unsigned>(req->data.size()));
  int rc = uv_write(&req->req, reinterpret_cast<uv_stream_t*>(&frames_), &buf, 1,
                    [](uv_write_t* r, int status) {
                      auto* wr = static_cast<WriteReq*>(r->data);
                      auto* self = static_cast<WorkerProcess*>(r->handle->data);
                      // A oneshot event is followed by EOF on stdin; a failed write shows up as
                      // the process exiting, so it needs no handling here.
                      if (wr->close_after && !uv_is_closing(reinterpret_cast<uv_handle_t*>(r->handle)))
                        self->close_handle(reinterpret_cast<uv_handle_t*>(r->handle));
                      delete wr;
                    });
  if (rc != 0) {
    delete req;
    return Status(Errc::worker_crashed, std::string("write to worker failed: ") + uv_strerror(rc));
  }
  return Status::OK();
}

void WorkerProcess::kill_group() {
  if (!exited_ && pid_ > 0) ::kill(-pid_, SIGKILL);
}

void WorkerProcess::stop(uint64_t grace_ms) {
  if (exited_) return;
  if (!oneshot_) close_handle(reinterpret_cast<uv_handle_t*>(&frames_));
  uv_timer_start(&timer_, [](uv_timer_t* t) { static_cast<WorkerProcess*>(t->data)->kill_group(); },
                 grace_ms, 0);
}

void WorkerProcess::release() {
  if (released_) return;
  released_ = true;
  if (!exited_) {
    kill_group();  // the exit callback finishes the job
  } else if (reported_) {
    close_all();
  }
}

std::string WorkerProcess::stderr_tail() const { return err_tail_; }

void WorkerProcess::on_exit_cb(uv_process_t* p, int64_t status, int signal) {
  auto* w = static_cast<WorkerProcess*>(p->data);
  w->exited_ = true;
  w->exit_status_ = status;
  w->term_signal_ = signal;
  if (w->open_readers_ == 0) {
    w->maybe_report_exit();
  } else {
    uv_timer_start(&w->timer_,
                   [](uv_timer_t* t) { static_cast<WorkerProcess*>(t->data)->maybe_report_exit(); },
                   kExitDrainMs, 0);
  }
}

void WorkerProcess::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* w = static_cast<WorkerProcess*>(h->data);
  *buf = uv_buf_init(w->read_buf_, sizeof w->read_buf_);
}

void WorkerProcess::on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
  auto* w = static_cast<WorkerProcess*>(s->data);
  if (n > 0) {
    w->handle_bytes(s, buf->base, static_cast<size_t>(n));
  } else if (n < 0) {
    uv_read_stop(s);
    w->pipe_closed_for_reading(s);
  }
}

void WorkerProcess::handle_bytes(uv_stream_t* s, const char* data, size_t len) {
  if (s == reinterpret_cast<uv_stream_t*>(&frames_)) {
    reader_.feed(data, len);
    while (auto next = reader_.next()) {
      Status bad;
      if (!next->ok()) {
        bad = next->status();
      } else {
        auto frame = decode_worker_frame(next->value());
        if (frame.ok()) {
          if (!released_) listener_->on_frame(*this, std::move(frame).value());
          continue;
        }
        bad = frame.status();
      }
      uv_read_stop(s);
      kill_group();
      if (!released_) listener_->on_protocol_error(*this, bad);
      return;
    }
    return;
  }
  bool is_err = s == reinterpret_cast<uv_stream_t*>(&err_);
  if (is_err) {
    err_tail_.append(data, len);
    if (err_tail_.size() > kStderrTail) err_tail_.erase(0, err_tail_.size() - kStderrTail);
  } else if (oneshot_) {
    if (stdout_data_.size() + len > max_stdout_) {
      stdout_overflow_ = true;
      kill_group();
      return;
    }
    stdout_data_.append(data, len);
    return;
  }
  auto emit = [&](std::string_view line) {
    if (!released_) listener_->on_log(*this, is_err, line);
  };
  (is_err ? err_lines_ : out_lines_).feed(std::string_view(data, len), emit);
}

void WorkerProcess::pipe_closed_for_reading(uv_stream_t* s) {
  if (s == reinterpret_cast<uv_stream_t*>(&frames_)) return;  // exit will follow
  auto emit_err = [&](std::string_view line) {
    if (!released_) listener_->on_log(*this, true, line);
  };
  auto emit_out = [&](std::string_view line) {
    if (!released_) listener_->on_log(*this, false, line);
  };
  if (s == reinterpret_cast<uv_stream_t*>(&err_))
    err_lines_.flush(emit_err);
  else
    out_lines_.flush(emit_out);
  if (--open_readers_ == 0 && exited_) maybe_report_exit();
}

void WorkerProcess::maybe_report_exit() {
  if (reported_) return;
  reported_ = true;
  uv_timer_stop(&timer_);
  if (released_) {
    close_all();
    return;
  }
  listener_->on_exit(*this, exit_status_, term_signal_);
}

void WorkerProcess::close_handle(uv_handle_t* h) {
  if (!uv_is_closing(h)) uv_close(h, &WorkerProcess::on_handle_closed);
}

void WorkerProcess::close_all() {
  if (closing_) return;
  closing_ = true;
  close_handle(reinterpret_cast<uv_handle_t*>(&frames_));
  close_handle(reinterpret_cast<uv_handle_t*>(&out_));
  close_handle(reinterpret_cast<uv_handle_t*>(&err_));
  close_handle(reinterpret_cast<uv_handle_t*>(&timer_));
  close_handle(reinterpret_cast<uv_handle_t*>(&process_));
}

void WorkerProcess::on_handle_closed(uv_handle_t* h) {
  auto* w = static_cast<WorkerProcess*>(h->data);
  if (--w->open_handles_ == 0) delete w;
}

}  // namespace natsfn
