#include "wire_reader.hpp"

#include <charconv>
#include <vector>

namespace natsfn::telnet {
namespace {

constexpr std::string_view kCrlf = "\r\n";

// Larger than any max_payload a server accepts; a count above it means we misread the stream.
constexpr std::size_t kMaxPayload = 64 * 1024 * 1024;

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  std::size_t pos = 0;
  while (pos < line.size()) {
    const auto start = line.find_first_not_of(" \t", pos);
    if (start == std::string_view::npos) break;
    auto end = line.find_first_of(" \t", start);
    if (end == std::string_view::npos) end = line.size();
    words.push_back(line.substr(start, end - start));
    pos = end;
  }
  return words;
}

std::optional<std::size_t> parse_size(std::string_view text) {
  std::size_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || value > kMaxPayload) return std::nullopt;
  return value;
}

}  // namespace

void WireReader::feed(std::string_view bytes) {
  // Drop what has been consumed so the buffer does not grow for the life of the connection.
  if (pos_ > 0 && pos_ == buffer_.size()) {
    buffer_.clear();
    pos_ = 0;
  } else if (pos_ > 64 * 1024) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  buffer_.append(bytes);
}

std::string_view WireReader::unparsed() const { return std::string_view(buffer_).substr(pos_); }

std::optional<Item> WireReader::next() {
  while (ready_.empty() && error_.empty() && parse_one()) {
  }
  if (ready_.empty()) return std::nullopt;
  Item item = std::move(ready_.front());
  ready_.pop_front();
  return item;
}

// Consumes one line or one whole message body from the buffer into ready_. Returns false when
// the buffer holds no complete unit yet.
bool WireReader::parse_one() {
  const std::string_view rest = unparsed();
  if (total_len_) {
    const std::size_t total = *total_len_;
    if (rest.size() < total + kCrlf.size()) return false;
    if (rest.substr(total, kCrlf.size()) != kCrlf) {
      error_ = "message body of " + std::to_string(total) + " bytes is not followed by CRLF";
      return false;
    }
    std::size_t body_start = 0;
    if (header_len_) {
      // The header block is NATS/1.0 CRLF, one CRLF-terminated line per header, then CRLF.
      std::string_view block = rest.substr(0, *header_len_);
      while (!block.empty()) {
        const auto end = block.find(kCrlf);
        const auto line = block.substr(0, end);
        ready_.push_back({ItemKind::kHeaderLine, std::string(line)});
        block.remove_prefix(end == std::string_view::npos ? block.size() : end + kCrlf.size());
      }
      body_start = *header_len_;
    }
    ready_.push_back(
        {ItemKind::kPayload, std::string(rest.substr(body_start, total - body_start))});
    pos_ += total + kCrlf.size();
    header_len_.reset();
    total_len_.reset();
    return true;
  }

  const auto end = rest.find(kCrlf);
  if (end == std::string_view::npos) return false;
  const std::string_view line = rest.substr(0, end);
  pos_ += end + kCrlf.size();
  ready_.push_back({ItemKind::kLine, std::string(line)});
  return start_payload(line);
}

// Remembers the byte counts announced by a MSG or HMSG line. Returns false on a malformed one.
bool WireReader::start_payload(std::string_view line) {
  const auto words = split_words(line);
  if (words.empty()) return true;
  if (words[0] == "MSG") {
    if (words.size() != 4 && words.size() != 5) {
      error_ = "MSG line needs 3 or 4 arguments";
      return false;
    }
    total_len_ = parse_size(words.back());
  } else if (words[0] == "HMSG") {
    if (words.size() != 5 && words.size() != 6) {
      error_ = "HMSG line needs 4 or 5 arguments";
      return false;
    }
    header_len_ = parse_size(words[words.size() - 2]);
    total_len_ = parse_size(words.back());
    if (!header_len_ || !total_len_ || *header_len_ > *total_len_) {
      error_ = "HMSG line has bad byte counts";
      header_len_.reset();
      total_len_.reset();
      return false;
    }
  } else {
    return true;
  }
  if (!total_len_) {
    error_ = "MSG line has a bad byte count";
    return false;
  }
  return true;
}

}  // namespace natsfn::telnet
