#include "bridge-http/src/http_connection.hpp"

#include <spdlog/spdlog.h>

#include <climits>

#include "bridge-http/src/gateway.hpp"
#include "bridge-http/src/http_server.hpp"

namespace natsfn {
namespace {

// How long a closing connection keeps reading (and discarding) after its last response, so a
// client still sending a refused body gets our answer instead of a reset.
constexpr int64_t kLingerMs = 2000;
// Past this much unsent response data we stop reading more requests from the client.
constexpr size_t kMaxWriteQueue = 4 * 1024 * 1024;

HttpConnection* self_of(http_parser* p) { return static_cast<HttpConnection*>(p->data); }

// Splits a request target into path and query. Origin-form ("/a?b") is the norm; absolute-form
// ("http://host/a?b") is allowed by HTTP/1.1, and "*" (OPTIONS) has no path at all.
void split_target(HttpRequest& req) {
  std::string_view t = req.target;
  if (!t.empty() && t[0] != '/') {
    http_parser_url u;
    http_parser_url_init(&u);
    if (http_parser_parse_url(t.data(), t.size(), 0, &u) == 0) {
      req.path = (u.field_set & (1 << UF_PATH))
                     ? std::string(t.substr(u.field_data[UF_PATH].off, u.field_data[UF_PATH].len))
                     : "/";
      if (u.field_set & (1 << UF_QUERY))
        req.query = std::string(t.substr(u.field_data[UF_QUERY].off, u.field_data[UF_QUERY].len));
      return;
    }
    req.path = std::string(t);
    return;
  }
  size_t end = t.find('#');
  if (end != std::string_view::npos) t = t.substr(0, end);
  size_t q = t.find('?');
  req.path = std::string(t.substr(0, q));
  if (q != std::string_view::npos) req.query = std::string(t.substr(q + 1));
}

}  // namespace

struct HttpConnection::WriteReq {
  uv_write_t req;
  std::vector<std::string> chunks;
  std::vector<uv_buf_t> bufs;
};

HttpConnection::HttpConnection(HttpServer& server, const BridgeOptions& options, Gateway& gateway)
    : server_(server), options_(options), gateway_(gateway) {
  http_parser_init(&parser_, HTTP_REQUEST);
  parser_.data = this;
}

const http_parser_settings& HttpConnection::settings() {
  static const http_parser_settings s = [] {
    http_parser_settings v;
    http_parser_settings_init(&v);
    v.on_message_begin = &HttpConnection::on_message_begin;
    v.on_url = &HttpConnection::on_url;
    v.on_header_field = &HttpConnection::on_header_field;
    v.on_header_value = &HttpConnection::on_header_value;
    v.on_headers_complete = &HttpConnection::on_headers_complete;
    v.on_body = &HttpConnection::on_body;
    v.on_message_complete = &HttpConnection::on_message_complete;
    return v;
  }();
  return s;
}

void HttpConnection::accept(uv_stream_t* listener) {
  uv_tcp_init(listener->loop, &tcp_);
  uv_timer_init(listener->loop, &timer_);
  tcp_.data = timer_.data = this;
  open_handles_ = 2;
  if (int rc = uv_accept(listener, reinterpret_cast<uv_stream_t*>(&tcp_)); rc != 0) {
    spdlog::warn("accept failed: {}", uv_strerror(rc));
    close();
    return;
  }
  uv_tcp_nodelay(&tcp_, 1);
  sockaddr_storage addr{};
  int len = sizeof addr;
  if (uv_tcp_getpeername(&tcp_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    char ip[INET6_ADDRSTRLEN] = "";
    if (addr.ss_family == AF_INET)
      uv_ip4_name(reinterpret_cast<sockaddr_in*>(&addr), ip, sizeof ip);
    else if (addr.ss_family == AF_INET6)
      uv_ip6_name(reinterpret_cast<sockaddr_in6*>(&addr), ip, sizeof ip);
    source_ip_ = ip;
  }
  // Until the first byte arrives the connection is idle; the header clock starts with it.
  arm_timer(options_.idle_timeout_ms);
  start_reading();
}

void HttpConnection::close() {
  if (closing_) return;
  closing_ = true;
  // Replies still on their way are dropped by the invoker; nothing will call complete().
  for (auto& slot : slots_)
    if (!slot.ready && slot.token != 0) gateway_.cancel(slot.token);
  slots_.clear();
  server_.forget(this);
  if (open_handles_ == 0) {
    delete this;  // never opened: accept() was not reached
    return;
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), &HttpConnection::on_handle_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), &HttpConnection::on_handle_closed);
}

void HttpConnection::on_handle_closed(uv_handle_t* h) {
  auto* self = static_cast<HttpConnection*>(h->data);
  if (--self->open_handles_ == 0) delete self;
}

void HttpConnection::drain() {
  if (closing_ || finishing_) return;  // already on its way out
  done_parsing_ = true;
  stop_reading();
  // A half-received request is dropped; its header or body timer must not cut off the answers
  // still owed for earlier requests.
  state_ = State::idle;
  uv_timer_stop(&timer_);
  if (!slots_.empty()) {
    // Everything already received is answered; the last answer ends the connection.
    slots_.back().close = true;
    return;
  }
  if (writes_in_flight_ > 0) {
    finishing_ = true;  // on_written closes once the last response is out
    return;
  }
  close();
}

// --- reading ----------------------------------------------------------------------------------

void HttpConnection::start_reading() {
  if (reading_ || closing_) return;
  reading_ = true;
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&tcp_),
      [](uv_handle_t* h, size_t, uv_buf_t* buf) {
        // Every read is parsed (and copied out) before the next one, so one buffer serves all
        // connections: an idle connection costs no read buffer.
        *buf = static_cast<HttpConnection*>(h->data)->server_.read_buffer();
      },
      &HttpConnection::on_read);
}

void HttpConnection::stop_reading() {
  if (!reading_ || closing_) return;
  reading_ = false;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
}

void HttpConnection::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<HttpConnection*>(s->data);
  if (self->closing_) return;
  if (nread > 0) {
    if (self->state_ == State::lingering) return;  // discarded
    if (self->state_ == State::body) self->arm_timer(self->options_.idle_timeout_ms);
    self->feed(buf->base, static_cast<size_t>(nread));
  } else if (nread == UV_EOF) {
    self->on_eof();
  } else if (nread < 0) {
    self->close();  // reset by the peer: nobody is left to answer
  }
}

void HttpConnection::on_eof() {
  read_eof_ = true;
  stop_reading();
  if (state_ == State::lingering) {
    close();
    return;
  }
  if (finishing_) return;  // begin_linger sees read_eof_ and closes after the last write
  // The client will send no more, but may still read: answer what it asked for, then close.
  done_parsing_ = true;
  state_ = State::idle;
  uv_timer_stop(&timer_);
  if (!slots_.empty()) {
    slots_.back().close = true;
    flush();
    return;
  }
  if (writes_in_flight_ > 0) {
    finishing_ = true;
    return;
  }
  close();
}

void HttpConnection::feed(const char* data, size_t len) {
  if (done_parsing_ || closing_) return;
  size_t n = http_parser_execute(&parser_, &settings(), data, len);
  if (closing_) return;
  auto err = HTTP_PARSER_ERRNO(&parser_);
  if (err == HPE_PAUSED) {
    if (!done_parsing_) {
      // Too many requests queued: keep the rest of this read for later and read no more.
      held_input_.append(data + n, len - n);
      stop_reading();
    }
    return;
  }
  if (err != HPE_OK) {
    if (done_parsing_) return;
    int status = error_status_ != 0           ? error_status_
                 : err == HPE_HEADER_OVERFLOW ? 431
                 : err == HPE_INVALID_METHOD  ? 400
                                              : 400;
    reject(status, status == 431   ? "Request Header Fields Too Large"
                   : status == 413 ? "Request Entity Too Large"
                                   : http_errno_description(err));
    return;
  }
  if (parser_.upgrade && !done_parsing_) {
    // We do not switch protocols; whatever follows the request is not HTTP we can read.
    done_parsing_ = true;
    stop_reading();
    if (!slots_.empty()) slots_.back().close = true;
    flush();
  }
}

void HttpConnection::maybe_resume() {
  if (!paused_ || closing_ || done_parsing_) return;
  if (slots_.size() >= options_.max_pipeline) return;
  if (uv_stream_get_write_queue_size(reinterpret_cast<uv_stream_t*>(&tcp_)) > kMaxWriteQueue)
    return;
  paused_ = false;
  http_parser_pause(&parser_, 0);
  std::string held = std::move(held_input_);
  held_input_.clear();
  feed(held.data(), held.size());
  if (!paused_ && !done_parsing_ && !read_eof_) start_reading();
}

// --- parser callbacks ---------------------------------------------------------------------------

bool HttpConnection::count_header_bytes(size_t len) {
  header_bytes_ += len;
  if (header_bytes_ <= options_.max_header) return true;
  error_status_ = 431;
  return false;
}

int HttpConnection::on_message_begin(http_parser* p) {
  auto* self = self_of(p);
  self->req_ = HttpRequest{};
  self->header_bytes_ = 0;
  self->last_was_value_ = false;
  self->error_status_ = 0;
  self->state_ = State::headers;
  // The whole header block must arrive within the header timeout, however slowly it trickles.
  self->arm_timer(self->options_.header_timeout_ms);
  return 0;
}

int HttpConnection::on_url(http_parser* p, const char* at, size_t len) {
  auto* self = self_of(p);
  if (!self->count_header_bytes(len)) return -1;
  self->req_.target.append(at, len);
  return 0;
}

int HttpConnection::on_header_field(http_parser* p, const char* at, size_t len) {
  auto* self = self_of(p);
  if (!self->count_header_bytes(len + 4)) return -1;  // ": " and CRLF count too
  auto& headers = self->req_.headers;
  if (headers.empty() || self->last_was_value_) headers.emplace_back();
  headers.back().first.append(at, len);
  self->last_was_value_ = false;
  return 0;
}

int HttpConnection::on_header_value(http_parser* p, const char* at, size_t len) {
  auto* self = self_of(p);
  if (!self->count_header_bytes(len)) return -1;
  if (self->req_.headers.empty()) return -1;
  self->req_.headers.back().second.append(at, len);
  self->last_was_value_ = true;
  return 0;
}

int HttpConnection::on_headers_complete(http_parser* p) {
  auto* self = self_of(p);
  HttpRequest& req = self->req_;
  req.method = http_method_str(static_cast<http_method>(p->method));
  req.http_major = p->http_major;
  req.http_minor = p->http_minor;
  split_target(req);
  // http-parser leaves content_length at ULLONG_MAX when the request has no Content-Length.
  if (p->content_length != ULLONG_MAX && p->content_length > self->options_.max_body) {
    self->error_status_ = 413;
    return -1;
  }
  if (p->content_length != ULLONG_MAX && p->content_length > 0)
    req.body.reserve(static_cast<size_t>(p->content_length));
  const std::string* expect = req.header("expect");
  if (expect != nullptr && iequals(*expect, "100-continue") && p->http_minor >= 1 &&
      self->slots_.empty() && self->writes_in_flight_ == 0) {
    // Interim responses may only go out when no earlier response is still owed.
    self->write({"HTTP/1.1 100 Continue\r\n\r\n"});
  }
  self->state_ = State::body;
  self->arm_timer(self->options_.idle_timeout_ms);
  return 0;
}

int HttpConnection::on_body(http_parser* p, const char* at, size_t len) {
  auto* self = self_of(p);
  if (self->req_.body.size() + len > self->options_.max_body) {
    self->error_status_ = 413;  // a chunked body grew past the limit
    return -1;
  }
  self->req_.body.append(at, len);
  return 0;
}

int HttpConnection::on_message_complete(http_parser* p) {
  self_of(p)->dispatch();
  return 0;
}

// --- requests and responses ---------------------------------------------------------------------

void HttpConnection::dispatch() {
  if (closing_) return;
  state_ = State::idle;
  uv_timer_stop(&timer_);  // the invoker's deadline bounds the wait from here
  Slot slot;
  slot.id = next_slot_++;
  slot.close = !http_should_keep_alive(&parser_);
  slot.head = req_.method == "HEAD";
  slot.http10 = req_.http_major == 1 && req_.http_minor == 0;
  slots_.push_back(std::move(slot));
  uint64_t id = slots_.back().id;
  bool last = slots_.back().close;
  if (last) {
    done_parsing_ = true;
    stop_reading();
    http_parser_pause(&parser_, 1);  // ignore whatever else this read carried
  }
  req_.source_ip = source_ip_;
  uint64_t token = gateway_.handle(std::move(req_),
                                   [this, id](HttpResponse&& r) { complete(id, std::move(r)); });
  req_ = HttpRequest{};
  if (closing_) return;
  for (auto& s : slots_)
    if (s.id == id && !s.ready) s.token = token;
  if (!last &&
      (slots_.size() >= options_.max_pipeline ||
       uv_stream_get_write_queue_size(reinterpret_cast<uv_stream_t*>(&tcp_)) > kMaxWriteQueue)) {
    paused_ = true;
    http_parser_pause(&parser_, 1);
  }
}

void HttpConnection::complete(uint64_t id, HttpResponse&& r) {
  if (closing_ || slots_.empty() || id < slots_.front().id) return;
  size_t index = static_cast<size_t>(id - slots_.front().id);
  if (index >= slots_.size()) return;
  slots_[index].response = std::move(r);
  slots_[index].ready = true;
  slots_[index].token = 0;
  flush();
}

void HttpConnection::reject(int status, const char* message) {
  done_parsing_ = true;
  stop_reading();
  gateway_.log_rejected(req_.method, req_.target, status);
  Slot slot;
  slot.id = next_slot_++;
  slot.ready = true;
  slot.close = true;
  slot.response = error_response(status, message);
  slots_.push_back(std::move(slot));
  state_ = State::idle;
  flush();
}

void HttpConnection::flush() {
  if (closing_ || finishing_) return;
  std::vector<std::string> chunks;
  while (!slots_.empty() && slots_.front().ready) {
    Slot& s = slots_.front();
    WireOptions w{!s.close, s.http10, s.head};
    chunks.push_back(serialize_response(s.response, w));
    bool last = s.close;
    slots_.pop_front();
    if (last) {
      finishing_ = true;
      // Requests after the last one are never answered.
      for (auto& rest : slots_)
        if (!rest.ready && rest.token != 0) gateway_.cancel(rest.token);
      slots_.clear();
      break;
    }
  }
  if (!chunks.empty()) write(std::move(chunks));
  if (closing_) return;
  if (finishing_) {
    if (writes_in_flight_ == 0) begin_linger();
    return;
  }
  maybe_resume();
  if (slots_.empty() && state_ == State::idle && !done_parsing_)
    arm_timer(options_.idle_timeout_ms);
}

void HttpConnection::write(std::vector<std::string> chunks) {
  auto* w = new WriteReq;
  w->chunks = std::move(chunks);
  for (auto& c : w->chunks)
    w->bufs.push_back(uv_buf_init(c.data(), static_cast<unsigned>(c.size())));
  w->req.data = this;
  ++writes_in_flight_;
  int rc = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&tcp_), w->bufs.data(),
                    static_cast<unsigned>(w->bufs.size()), [](uv_write_t* req, int status) {
                      auto* wr = reinterpret_cast<WriteReq*>(req);
                      auto* self = static_cast<HttpConnection*>(req->data);
                      delete wr;
                      self->on_written(status);
                    });
  if (rc != 0) {
    --writes_in_flight_;
    delete w;
    close();
  }
}

void HttpConnection::on_written(int status) {
  --writes_in_flight_;
  if (closing_) return;
  if (status < 0) {
    close();  // the client is gone; anything still owed to it is dropped
    return;
  }
  if (finishing_ && writes_in_flight_ == 0) {
    begin_linger();
    return;
  }
  maybe_resume();
}

void HttpConnection::begin_linger() {
  if (state_ == State::lingering || closing_) return;
  state_ = State::lingering;
  if (read_eof_) {
    close();
    return;
  }
  // Half-close, then read and discard until the client closes or the linger time is up.
  shutdown_req_.data = this;
  int rc = uv_shutdown(&shutdown_req_, reinterpret_cast<uv_stream_t*>(&tcp_),
                       [](uv_shutdown_t* req, int status) {
                         auto* self = static_cast<HttpConnection*>(req->data);
                         if (self->closing_) return;
                         if (status < 0) self->close();
                       });
  if (rc != 0) {
    close();
    return;
  }
  done_parsing_ = true;
  start_reading();
  arm_timer(kLingerMs);
}

// --- timers ---------------------------------------------------------------------------------

void HttpConnection::arm_timer(int64_t ms) {
  if (closing_) return;
  uv_timer_start(
      &timer_, [](uv_timer_t* t) { static_cast<HttpConnection*>(t->data)->on_timeout(); },
      static_cast<uint64_t>(ms), 0);
}

void HttpConnection::on_timeout() {
  if (closing_) return;
  switch (state_) {
    case State::headers:
    case State::body:
      if (slots_.empty()) {
        reject(408, "Request Timeout");
      } else {
        close();  // cannot answer out of order; the stalled client loses its connection
      }
      return;
    case State::idle:
      if (slots_.empty()) close();
      return;
    case State::lingering:
      close();
      return;
  }
}

}  // namespace natsfn
