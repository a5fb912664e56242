#include "transcript.hpp"

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "escape.hpp"

namespace natsfn::telnet {
namespace {

constexpr std::string_view kCrlf = "\r\n";

// The longest repeat we accept; far above NATS's default max_payload, far below memory trouble.
constexpr long kMaxRepeatBytes = 64L * 1024 * 1024;

bool starts_with_word(std::string_view line, std::string_view word) {
  if (!line.starts_with(word)) return false;
  return line.size() == word.size() || line[word.size()] == ' ';
}

// The text after `word` and its single separating space.
std::string_view argument_of(std::string_view line, std::string_view word) {
  line.remove_prefix(word.size());
  if (!line.empty()) line.remove_prefix(1);
  return line;
}

std::optional<long> parse_count(std::string_view text) {
  long value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || value < 0) return std::nullopt;
  return value;
}

class LineParser {
 public:
  LineParser(const std::string& name, int line) : name_(name), line_(line) {}

  [[noreturn]] void fail(const std::string& why) const {
    throw TranscriptError(name_ + ":" + std::to_string(line_) + ": " + why);
  }

  std::string hex(std::string_view text) const {
    auto bytes = decode_hex(text);
    if (!bytes) fail("bad hex bytes \"" + std::string(text) + "\"");
    return *bytes;
  }

  // `N TEXT`: TEXT repeated N times. TEXT is everything after the first space, so it may be
  // a single character or a longer pattern.
  std::string repeat(std::string_view text) const {
    const auto space = text.find(' ');
    if (space == std::string_view::npos || space + 1 == text.size()) {
      fail("repeat needs a count and the text to repeat, e.g. `repeat 4096 x`");
    }
    const auto count = parse_count(text.substr(0, space));
    const auto unit = text.substr(space + 1);
    if (!count || *count * static_cast<long>(unit.size()) > kMaxRepeatBytes) {
      fail("bad repeat count \"" + std::string(text.substr(0, space)) + "\"");
    }
    std::string out;
    out.reserve(*count * unit.size());
    for (long i = 0; i < *count; ++i) out += unit;
    return out;
  }

  std::chrono::milliseconds millis(std::string_view text) const {
    const auto count = parse_count(text);
    if (!count) fail("expected a duration in milliseconds, got \"" + std::string(text) + "\"");
    return std::chrono::milliseconds(*count);
  }

 private:
  const std::string& name_;
  int line_;
};

Step parse_send(const LineParser& p, std::string_view line) {
  Step step;
  step.kind = StepKind::kSend;
  if (starts_with_word(line, ">hex")) {
    step.bytes = p.hex(argument_of(line, ">hex"));
  } else if (starts_with_word(line, ">raw")) {
    step.bytes = std::string(argument_of(line, ">raw"));
  } else if (starts_with_word(line, ">repeat")) {
    step.bytes = p.repeat(argument_of(line, ">repeat")) + std::string(kCrlf);
  } else if (line == ">" || line.starts_with("> ")) {
    step.bytes = std::string(argument_of(line, ">")) + std::string(kCrlf);
  } else {
    p.fail("unknown send directive \"" + std::string(line) + "\"");
  }
  return step;
}

Step parse_expect(const LineParser& p, std::string_view line) {
  Step step;
  step.kind = StepKind::kExpectBytes;
  if (starts_with_word(line, "<hex")) {
    step.bytes = p.hex(argument_of(line, "<hex"));
  } else if (starts_with_word(line, "<repeat")) {
    step.bytes = p.repeat(argument_of(line, "<repeat"));
  } else if (starts_with_word(line, "<none")) {
    step.kind = StepKind::kExpectNone;
    step.duration = p.millis(argument_of(line, "<none"));
  } else if (starts_with_word(line, "<~")) {
    step.kind = StepKind::kExpectRegex;
    step.bytes = std::string(argument_of(line, "<~"));
    try {
      step.regex = std::regex(step.bytes, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      p.fail("bad regex \"" + step.bytes + "\": " + e.what());
    }
  } else if (line == "<" || line.starts_with("< ")) {
    step.bytes = std::string(argument_of(line, "<"));
  } else {
    p.fail("unknown expect directive \"" + std::string(line) + "\"");
  }
  return step;
}

void parse_requirements(std::string_view comment, std::vector<std::string>& out) {
  constexpr std::string_view kPrefix = "#! requires:";
  if (!comment.starts_with(kPrefix)) return;
  std::istringstream words{std::string(comment.substr(kPrefix.size()))};
  for (std::string word; words >> word;) out.push_back(word);
}

bool is_blank(std::string_view line) {
  return line.find_first_not_of(" \t") == std::string_view::npos;
}

}  // namespace

std::optional<std::string> process_env(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

std::string Step::describe() const {
  switch (kind) {
    case StepKind::kSend:
      return "send \"" + escape_bytes(bytes) + "\"";
    case StepKind::kExpectBytes:
      return "exactly \"" + escape_bytes(bytes) + "\"";
    case StepKind::kExpectRegex:
      return "a full match of regex /" + bytes + "/";
    case StepKind::kExpectNone:
      return "nothing for " + std::to_string(duration.count()) + " ms";
    case StepKind::kSleep:
      return "sleep " + std::to_string(duration.count()) + " ms";
  }
  return "?";
}

std::string substitute_variables(std::string_view text, const EnvLookup& env) {
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (text.substr(pos).starts_with("$${")) {
      out += "${";
      pos += 3;
      continue;
    }
    if (!text.substr(pos).starts_with("${")) {
      out += text[pos++];
      continue;
    }
    const auto close = text.find('}', pos + 2);
    if (close == std::string_view::npos) {
      throw TranscriptError("unterminated ${ in \"" + std::string(text) + "\"");
    }
    std::string_view body = text.substr(pos + 2, close - pos - 2);
    std::optional<std::string_view> fallback;
    if (const auto dash = body.find(":-"); dash != std::string_view::npos) {
      fallback = body.substr(dash + 2);
      body = body.substr(0, dash);
    }
    const std::string name(body);
    if (auto value = env(name)) {
      out += *value;
    } else if (fallback) {
      out += *fallback;
    } else {
      throw TranscriptError("environment variable " + name + " is not set");
    }
    pos = close + 1;
  }
  return out;
}

Transcript parse_transcript(std::string name, std::string_view text, const EnvLookup& env) {
  Transcript transcript;
  transcript.name = std::move(name);
  int line_number = 0;
  while (!text.empty()) {
    ++line_number;
    auto newline = text.find('\n');
    std::string_view raw = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    // Transcripts edited on Windows keep working: the \r belongs to the file, not the protocol.
    if (raw.ends_with('\r')) raw.remove_suffix(1);

    if (raw.starts_with('#')) {
      parse_requirements(raw, transcript.requirements);
      continue;
    }
    if (is_blank(raw)) continue;

    const LineParser parser(transcript.name, line_number);
    std::string line;
    try {
      line = substitute_variables(raw, env);
    } catch (const TranscriptError& e) {
      parser.fail(e.what());
    }

    Step step;
    if (line.starts_with('>')) {
      step = parse_send(parser, line);
    } else if (line.starts_with('<')) {
      step = parse_expect(parser, line);
    } else if (starts_with_word(line, "!sleep")) {
      step.kind = StepKind::kSleep;
      step.duration = parser.millis(argument_of(line, "!sleep"));
    } else {
      parser.fail("a line must start with >, <, ! or # (got \"" + escape_bytes(line) + "\")");
    }
    step.line = line_number;
    transcript.steps.push_back(std::move(step));
  }
  return transcript;
}

Transcript load_transcript(const std::string& path, const EnvLookup& env) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TranscriptError(path + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_transcript(path, text.str(), env);
}

}  // namespace natsfn::telnet
