#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace natsfn::telnet {

/// What one transcript line asks the runner to do.
enum class StepKind {
  kSend,         // `> text`, `>`, `>raw text`, `>hex ..`, `>repeat N TEXT`: write bytes
  kExpectBytes,  // `< text`, `<`, `<hex ..`, `<repeat N TEXT`: next item equals bytes
  kExpectRegex,  // `<~ regex`: next item fully matches the ECMAScript regex
  kExpectNone,   // `<none MS`: nothing but protocol noise arrives for MS milliseconds
  kSleep,        // `!sleep MS`
};

struct Step {
  StepKind kind = StepKind::kSend;
  int line = 0;       // 1-based line number in the transcript file
  std::string bytes;  // bytes to send or expect; the pattern source for kExpectRegex
  std::regex regex;   // compiled pattern for kExpectRegex
  std::chrono::milliseconds duration{0};  // kExpectNone and kSleep

  /// One-line human description of the step for diagnostics, e.g. `line "MSG foo 1 5"`.
  std::string describe() const;
};

struct Transcript {
  std::string name;  // file name as given on the command line
  std::vector<Step> steps;
  std::vector<std::string> requirements;  // words from `#! requires: a b c`
};

/// Looks an environment variable up; nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

/// The process environment, for EnvLookup.
std::optional<std::string> process_env(const std::string& name);

/// A transcript that cannot be run: bad syntax, an unset variable, an unreadable file.
class TranscriptError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Replaces `${NAME}` and `${NAME:-default}` with values from env; `$${` yields a literal `${`.
/// Throws TranscriptError naming the variable when it is unset and has no default.
std::string substitute_variables(std::string_view text, const EnvLookup& env);

/// Parses transcript text (see README.md for the syntax). Throws TranscriptError with
/// `name:line: reason` on the first bad line.
Transcript parse_transcript(std::string name, std::string_view text, const EnvLookup& env);

/// Reads and parses a transcript file.
Transcript load_transcript(const std::string& path, const EnvLookup& env);

}  // namespace natsfn::telnet
