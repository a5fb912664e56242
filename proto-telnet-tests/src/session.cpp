#include "session.hpp"

#include <iostream>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "escape.hpp"
#include "tcp_socket.hpp"
#include "wire_reader.hpp"

namespace natsfn::telnet {
namespace {

using Clock = TcpSocket::Clock;

const char* kind_name(ItemKind kind) {
  switch (kind) {
    case ItemKind::kLine:
      return "line";
    case ItemKind::kHeaderLine:
      return "header";
    case ItemKind::kPayload:
      return "payload";
  }
  return "?";
}

// Lines a human at a telnet prompt learns to ignore. Only protocol lines qualify: a payload
// that happens to read "PING" is data and must be matched like any other.
enum class Noise { kNone, kOk, kPing, kInfo };

Noise noise_of(const Item& item) {
  if (item.kind != ItemKind::kLine) return Noise::kNone;
  if (item.bytes == "+OK") return Noise::kOk;
  if (item.bytes == "PING") return Noise::kPing;
  if (item.bytes.starts_with("INFO ")) return Noise::kInfo;
  return Noise::kNone;
}

// True when the transcript itself asks for this kind of noise line, e.g. `< +OK`,
// `<~ INFO \{.*\}` or `< PING`; then it is matched instead of being handled silently.
bool step_wants(const Step& step, Noise noise) {
  if (step.kind != StepKind::kExpectBytes && step.kind != StepKind::kExpectRegex) return false;
  std::string_view text = step.bytes;
  if (step.kind == StepKind::kExpectRegex) {
    if (text.starts_with('^')) text.remove_prefix(1);
    if (text.starts_with('\\')) text.remove_prefix(1);
  }
  switch (noise) {
    case Noise::kOk:
      return text.starts_with("+OK");
    case Noise::kPing:
      return text.starts_with("PING");
    case Noise::kInfo:
      return text.starts_with("INFO");
    case Noise::kNone:
      return false;
  }
  return false;
}

bool step_matches(const Step& step, const Item& item) {
  if (step.kind == StepKind::kExpectRegex) return std::regex_match(item.bytes, step.regex);
  return item.bytes == step.bytes;
}

// The outcome of waiting for one item.
enum class Wait { kItem, kTimeout, kClosed, kBroken };

class Session {
 public:
  Session(const Transcript& transcript, const SessionOptions& options)
      : transcript_(transcript), options_(options) {}

  SessionResult run() {
    std::string error;
    auto socket =
        TcpSocket::connect(options_.host, options_.port, Clock::now() + options_.timeout, error);
    if (!socket) return fail(nullptr, "cannot connect: " + error);
    socket_ = &*socket;
    for (const Step& step : transcript_.steps) {
      if (auto failure = play(step)) return fail(&step, *failure);
    }
    return {true, "PASS " + transcript_.name + " (" + std::to_string(transcript_.steps.size()) +
                      " steps)"};
  }

 private:
  struct LogEntry {
    Item item;
    std::string note;
  };

  // Plays one step. Returns the reason when it failed.
  std::optional<std::string> play(const Step& step) {
    switch (step.kind) {
      case StepKind::kSend:
        return send(step.bytes);
      case StepKind::kSleep:
        std::this_thread::sleep_for(step.duration);
        return std::nullopt;
      case StepKind::kExpectNone:
        return expect_silence(step);
      case StepKind::kExpectBytes:
      case StepKind::kExpectRegex:
        return expect(step);
    }
    return "unknown step";
  }

  std::optional<std::string> send(const std::string& bytes) {
    trace("> ", bytes);
    std::string error;
    if (!socket_->send_all(bytes, error)) return error;
    return std::nullopt;
  }

  std::optional<std::string> expect(const Step& step) {
    const auto deadline = Clock::now() + options_.timeout;
    for (;;) {
      Item item;
      if (auto failure = describe_wait(wait_item(deadline, item), "waiting")) return failure;
      std::optional<std::string> failure;
      if (absorb_noise(step, item, failure)) {
        if (failure) return failure;
        continue;
      }
      if (step_matches(step, item)) {
        record(std::move(item), "matched line " + std::to_string(step.line));
        return std::nullopt;
      }
      record(std::move(item), "MISMATCH at line " + std::to_string(step.line));
      return "received something else (the last item below)";
    }
  }

  std::optional<std::string> expect_silence(const Step& step) {
    const auto deadline = Clock::now() + step.duration;
    for (;;) {
      Item item;
      const Wait wait = wait_item(deadline, item);
      if (wait == Wait::kTimeout) return std::nullopt;
      if (auto failure = describe_wait(wait, "keeping quiet")) return failure;
      std::optional<std::string> failure;
      if (absorb_noise(step, item, failure)) {
        if (failure) return failure;
        continue;
      }
      record(std::move(item), "UNEXPECTED during line " + std::to_string(step.line));
      return "received something during the quiet period (the last item below)";
    }
  }

  // Deals with +OK, INFO and PING unless the step asks for them. Returns true when the item
  // was such noise; failure is set if answering a PING failed.
  bool absorb_noise(const Step& step, Item& item, std::optional<std::string>& failure) {
    const Noise noise = noise_of(item);
    if (noise == Noise::kNone || step_wants(step, noise)) return false;
    if (noise == Noise::kPing) {
      record(std::move(item), "answered with PONG");
      failure = send("PONG\r\n");
      return true;
    }
    record(std::move(item), "skipped");
    return true;
  }

  std::optional<std::string> describe_wait(Wait wait, const char* doing) {
    switch (wait) {
      case Wait::kItem:
        return std::nullopt;
      case Wait::kTimeout:
        return "timed out after " + std::to_string(options_.timeout.count()) + " ms " + doing;
      case Wait::kClosed:
        return "the server closed the connection";
      case Wait::kBroken:
        return "cannot read the server's stream: " + read_error_;
    }
    return "?";
  }

  Wait wait_item(Clock::time_point deadline, Item& item) {
    for (;;) {
      if (auto next = reader_.next()) {
        item = std::move(*next);
        trace("< ", item.bytes);
        return Wait::kItem;
      }
      if (!reader_.error().empty()) {
        read_error_ = reader_.error();
        return Wait::kBroken;
      }
      if (closed_) return Wait::kClosed;
      std::string chunk;
      switch (socket_->read_some(chunk, deadline, read_error_)) {
        case TcpSocket::ReadStatus::kData:
          reader_.feed(chunk);
          break;
        case TcpSocket::ReadStatus::kTimeout:
          return Wait::kTimeout;
        case TcpSocket::ReadStatus::kClosed:
          closed_ = true;
          break;
        case TcpSocket::ReadStatus::kError:
          return Wait::kBroken;
      }
    }
  }

  void record(Item item, std::string note) { log_.push_back({std::move(item), std::move(note)}); }

  void trace(const char* direction, const std::string& bytes) const {
    if (options_.verbose) {
      std::cerr << transcript_.name << " " << direction << escape_bytes(bytes) << "\n";
    }
  }

  SessionResult fail(const Step* step, const std::string& reason) {
    std::ostringstream out;
    out << "FAIL " << transcript_.name;
    if (step != nullptr) out << ":" << step->line;
    out << ": " << reason << "\n";
    if (step != nullptr) out << "  expected: " << step->describe() << "\n";
    out << "  received (escaped, in order of arrival):\n";
    // Items already read but never examined belong to "everything received" too.
    while (auto rest = reader_.next()) record(std::move(*rest), "not examined");
    if (log_.empty()) out << "    (nothing)\n";
    for (std::size_t i = 0; i < log_.size(); ++i) {
      const LogEntry& entry = log_[i];
      out << "    #" << i + 1 << " " << kind_name(entry.item.kind) << " \""
          << escape_bytes(entry.item.bytes) << "\"  [" << entry.note << "]\n";
    }
    if (!reader_.unparsed().empty()) {
      out << "    unparsed bytes: \"" << escape_bytes(reader_.unparsed()) << "\"\n";
    }
    return {false, out.str()};
  }

  const Transcript& transcript_;
  const SessionOptions& options_;
  TcpSocket* socket_ = nullptr;
  WireReader reader_;
  std::vector<LogEntry> log_;
  std::string read_error_;
  bool closed_ = false;
};

}  // namespace

SessionResult run_transcript(const Transcript& transcript, const SessionOptions& options) {
  return Session(transcript, options).run();
}

}  // namespace natsfn::telnet
