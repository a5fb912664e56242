#include "core/daemon_log.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>

namespace natsfn {
namespace {

// spdlog's stdout sinks fflush after every message; this one leaves that to flush().
class BufferedStdoutSink : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    std::fwrite(line.data(), 1, line.size(), stdout);
  }
  void flush_() override { std::fflush(stdout); }
};

// spdlog's flush_every here (1.10) counts whole seconds; log readers should not wait that long.
class PeriodicFlusher {
 public:
  PeriodicFlusher() : thread_([this] { run(); }) {}
  ~PeriodicFlusher() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

 private:
  void run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stop_; }))
      spdlog::default_logger_raw()->flush();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

std::unique_ptr<PeriodicFlusher> g_flusher;

}  // namespace

void setup_daemon_logging(const std::string& level, LogFlush flush) {
  if (flush == LogFlush::periodic && !::isatty(STDOUT_FILENO)) {
    auto logger = std::make_shared<spdlog::logger>("natsfn", std::make_shared<BufferedStdoutSink>());
    spdlog::set_default_logger(std::move(logger));
    spdlog::flush_on(spdlog::level::warn);
    g_flusher = std::make_unique<PeriodicFlusher>();
  }
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
}

void shutdown_daemon_logging() {
  g_flusher.reset();
  spdlog::default_logger()->flush();
  spdlog::shutdown();
}

}  // namespace natsfn
