// Unit tests for the pieces of natsfn-proto-telnet that need no server: the transcript parser
// and the splitter that turns the server's byte stream into lines and payloads.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
#include <map>

#include "escape.hpp"
#include "transcript.hpp"
#include "wire_reader.hpp"

using namespace natsfn::telnet;

namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::vector<Item> split_all(std::string_view stream, std::size_t chunk) {
  WireReader reader;
  std::vector<Item> items;
  for (std::size_t pos = 0; pos < stream.size(); pos += chunk) {
    reader.feed(stream.substr(pos, chunk));
    while (auto item = reader.next()) items.push_back(*item);
  }
  REQUIRE(reader.error().empty());
  return items;
}

}  // namespace

TEST_CASE("send directives produce the exact bytes") {
  const auto t =
      parse_transcript("t", "> sub foo 1\n>\n>raw abc\n>hex 00 ff0d\n>repeat 3 ab\n", env_of({}));
  REQUIRE(t.steps.size() == 5);
  CHECK(t.steps[0].bytes == "sub foo 1\r\n");
  CHECK(t.steps[1].bytes == "\r\n");
  CHECK(t.steps[2].bytes == "abc");
  CHECK(t.steps[3].bytes == std::string("\x00\xff\x0d", 3));
  CHECK(t.steps[4].bytes == "ababab\r\n");
  for (const auto& step : t.steps) CHECK(step.kind == StepKind::kSend);
}

TEST_CASE("expect directives, comments, blank lines and line numbers") {
  const auto t =
      parse_transcript("t",
                       "#! requires: hello echo\n# note\n\n< MSG a 1 5\r\n<\n<~ MSG .*\n<hex 00\n"
                       "<repeat 2 x\n<none 150\n!sleep 10\n",
                       env_of({}));
  REQUIRE(t.steps.size() == 7);
  CHECK(t.requirements == std::vector<std::string>{"hello", "echo"});
  CHECK(t.steps[0].kind == StepKind::kExpectBytes);
  CHECK(t.steps[0].bytes == "MSG a 1 5");
  CHECK(t.steps[0].line == 4);
  CHECK(t.steps[1].bytes.empty());
  CHECK(t.steps[2].kind == StepKind::kExpectRegex);
  CHECK(std::regex_match(std::string("MSG x 1 2"), t.steps[2].regex));
  CHECK(t.steps[3].bytes == std::string(1, '\0'));
  CHECK(t.steps[4].bytes == "xx");
  CHECK(t.steps[5].kind == StepKind::kExpectNone);
  CHECK(t.steps[5].duration.count() == 150);
  CHECK(t.steps[6].kind == StepKind::kSleep);
  CHECK(t.steps[6].line == 10);
}

TEST_CASE("variables come from the environment, with defaults and an escape") {
  const auto env = env_of({{"INBOX", "_INBOX.x"}});
  CHECK(substitute_variables("sub ${INBOX} 1", env) == "sub _INBOX.x 1");
  CHECK(substitute_variables("${MISSING:-dflt}/${INBOX:-no}", env) == "dflt/_INBOX.x");
  CHECK(substitute_variables("$${INBOX}", env) == "${INBOX}");
  CHECK_THROWS_AS(substitute_variables("${MISSING}", env), TranscriptError);
}

TEST_CASE("bad transcripts name the file and line") {
  auto message_of = [](std::string_view text) {
    try {
      parse_transcript("bad.txt", text, env_of({}));
    } catch (const TranscriptError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(message_of("> ok\nhello\n").starts_with("bad.txt:2:"));
  CHECK(message_of(">hex 0g\n").starts_with("bad.txt:1:"));
  CHECK(message_of(">hex 0 0\n").starts_with("bad.txt:1:"));
  CHECK(message_of("<~ (\n").starts_with("bad.txt:1:"));
  CHECK(message_of("\n<none soon\n").starts_with("bad.txt:2:"));
  CHECK(message_of("> ${NOPE}\n").find("NOPE") != std::string::npos);
  CHECK(message_of(">repeat x\n").starts_with("bad.txt:1:"));
}

TEST_CASE("the wire reader reads payloads by byte count, whatever the chunking") {
  // The payloads contain CRLF, "PING" and "+OK" on purpose: only the byte count tells them
  // from protocol lines.
  const std::string payload("a\r\nPING\r\n+OK\x00\xff", 14);
  const std::string stream = "INFO {} \r\n+OK\r\nMSG foo 1 reply 14\r\n" + payload +
                             "\r\nMSG e 2 0\r\n\r\nHMSG h 3 18 23\r\nNATS/1.0\r\nA: b\r\n\r\nhello"
                             "\r\nPING\r\n";
  for (std::size_t chunk : {std::size_t{1}, std::size_t{3}, std::size_t{7}, stream.size()}) {
    const auto items = split_all(stream, chunk);
    REQUIRE(items.size() == 12);
    CHECK(items[0].bytes == "INFO {} ");
    CHECK(items[1].bytes == "+OK");
    CHECK(items[2].bytes == "MSG foo 1 reply 14");
    CHECK(items[3].kind == ItemKind::kPayload);
    CHECK(items[3].bytes == payload);
    CHECK(items[5].kind == ItemKind::kPayload);
    CHECK(items[5].bytes.empty());
    CHECK(items[6].bytes == "HMSG h 3 18 23");
    CHECK(items[7].kind == ItemKind::kHeaderLine);
    CHECK(items[7].bytes == "NATS/1.0");
    CHECK(items[8].bytes == "A: b");
    CHECK(items[9].bytes.empty());
    CHECK(items[10].kind == ItemKind::kPayload);
    CHECK(items[10].bytes == "hello");
    CHECK(items[11].kind == ItemKind::kLine);
    CHECK(items[11].bytes == "PING");
  }
}

TEST_CASE("the wire reader reports a payload without its CRLF") {
  WireReader reader;
  reader.feed("MSG foo 1 2\r\nabcd\r\n");
  CHECK(reader.next()->bytes == "MSG foo 1 2");
  CHECK_FALSE(reader.next());
  CHECK_FALSE(reader.error().empty());
  CHECK(reader.unparsed() == "abcd\r\n");
}

TEST_CASE("escape_bytes and decode_hex") {
  CHECK(escape_bytes(std::string("a\r\n\"\\\x00\xff", 7)) == "a\\r\\n\\\"\\\\\\x00\\xff");
  CHECK(escape_bytes(std::string(10, 'x'), 4).starts_with("xxxx...(10 bytes"));
  CHECK(decode_hex("41 42") == "AB");
  CHECK_FALSE(decode_hex("4"));
}
