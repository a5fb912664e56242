#pragma once
// One client connection: http-parser over a libuv TCP stream. Requests are parsed as they
// arrive (pipelined ones too) and each gets a slot in a queue; responses fill their slots in any
// order and are written strictly in request order. Limits (header bytes, body bytes, pipeline
// depth) and timers (slow headers, idle keep-alive, lingering close) bound what one client can
// hold. Loop thread only; the object deletes itself once both of its handles have closed.

#include <http_parser.h>
#include <uv.h>

#include <cstdint>
#include <deque>
#include <string>

#include "bridge-http/src/bridge_options.hpp"
#include "bridge-http/src/http_message.hpp"

namespace natsfn {

class Gateway;
class HttpServer;

class HttpConnection {
 public:
  HttpConnection(HttpServer& server, const BridgeOptions& options, Gateway& gateway);
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Accepts a pending connection from listener and starts reading. On failure the connection
  // closes itself.
  void accept(uv_stream_t* listener);
  // Closes now; replies still on their way are dropped. Idempotent.
  void close();
  // Finishes the requests already received (the last response says Connection: close), then
  // closes; a connection with nothing in flight closes at once.
  void drain();

 private:
  ~HttpConnection() = default;  // only via the close callbacks

  enum class State { idle, headers, body, lingering };
  struct Slot {
    uint64_t id = 0;
    uint64_t token = 0;  // NATS request in flight, for cancel
    bool ready = false;
    bool close = false;  // the connection ends after this response
    bool head = false;
    bool http10 = false;
    HttpResponse response;
  };
  struct WriteReq;

  static const http_parser_settings& settings();
  static int on_message_begin(http_parser* p);
  static int on_url(http_parser* p, const char* at, size_t len);
  static int on_header_field(http_parser* p, const char* at, size_t len);
  static int on_header_value(http_parser* p, const char* at, size_t len);
  static int on_headers_complete(http_parser* p);
  static int on_body(http_parser* p, const char* at, size_t len);
  static int on_message_complete(http_parser* p);
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_handle_closed(uv_handle_t* h);

  bool count_header_bytes(size_t len);
  void feed(const char* data, size_t len);
  void on_eof();
  void dispatch();
  void complete(uint64_t id, HttpResponse&& r);
  void reject(int status, const char* message);
  void flush();
  void write(std::vector<std::string> chunks);
  void on_written(int status);
  void maybe_resume();
  void start_reading();
  void stop_reading();
  void arm_timer(int64_t ms);
  void on_timeout();
  void begin_linger();

  HttpServer& server_;
  const BridgeOptions& options_;
  Gateway& gateway_;
  uv_tcp_t tcp_;
  uv_timer_t timer_;
  uv_shutdown_t shutdown_req_;
  int open_handles_ = 0;
  http_parser parser_;

  HttpRequest req_;  // the request being parsed
  bool last_was_value_ = false;
  size_t header_bytes_ = 0;
  int error_status_ = 0;  // chosen by a parser callback that refused the request

  std::deque<Slot> slots_;
  uint64_t next_slot_ = 1;
  std::string held_input_;  // bytes after a pipeline pause, parsed when we resume
  std::string source_ip_;
  State state_ = State::idle;
  size_t writes_in_flight_ = 0;
  bool reading_ = false;
  bool paused_ = false;        // the parser is paused: too many requests queued
  bool done_parsing_ = false;  // no further requests are read (error, close, drain, EOF)
  bool finishing_ = false;     // the last response is written or on its way
  bool read_eof_ = false;
  bool closing_ = false;
};

}  // namespace natsfn
