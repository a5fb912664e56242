#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace natsfn::telnet {

/// One unit the server sent, as a transcript sees it.
enum class ItemKind {
  kLine,        // a protocol line (INFO, MSG, +OK, PING, -ERR ...) without its CRLF
  kHeaderLine,  // one line of an HMSG header block, without its CRLF
  kPayload,     // the body of a MSG or HMSG, read by byte count (binary-safe), without its CRLF
};

struct Item {
  ItemKind kind = ItemKind::kLine;
  std::string bytes;
};

/// Splits the server's byte stream into items. It knows just enough of the protocol to find
/// payloads: after `MSG subject sid [reply] n` the next n bytes and a CRLF are a payload, after
/// `HMSG subject sid [reply] hdr total` the next `total` bytes and a CRLF are a header block
/// (split into lines) and a payload. Everything else is a CRLF-terminated line.
class WireReader {
 public:
  /// Appends bytes read from the socket.
  void feed(std::string_view bytes);

  /// The next complete item, or nullopt when more bytes are needed or framing is broken.
  std::optional<Item> next();

  /// Non-empty once the stream violated the framing (a payload without its CRLF, a bad count).
  const std::string& error() const { return error_; }

  /// Bytes received but not yet part of a complete item.
  std::string_view unparsed() const;

 private:
  bool parse_one();
  bool start_payload(std::string_view line);

  std::string buffer_;
  std::size_t pos_ = 0;
  std::deque<Item> ready_;
  // Byte counts of the message whose payload comes next, set by a MSG or HMSG line.
  std::optional<std::size_t> header_len_;
  std::optional<std::size_t> total_len_;
  std::string error_;
};

}  // namespace natsfn::telnet
