#pragma once
// JSON text without a document: a writer for the events the bridge builds and a validator for
// the results it passes through. Building and parsing nlohmann::json documents was the bridge's
// largest user-space cost per request (perf: a fifth of its samples in the lexer, serializer and
// the document's allocations); these touch each byte once. nlohmann::json stays for the rare
// proxy result that has to be taken apart.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace natsfn {

// Length of the well-formed UTF-8 sequence starting at s[i], or 0 if there is none (truncated,
// overlong, surrogate, past U+10FFFF, stray continuation byte).
size_t utf8_sequence_length(std::string_view s, size_t i);

bool valid_utf8(std::string_view s);

// Appends s as a JSON string literal. Bytes that are not UTF-8 become U+FFFD, as
// nlohmann::json's error_handler_t::replace does, so the output is always valid JSON.
void append_json_string(std::string& out, std::string_view s);

// RFC 8259 JSON text (any value at the top, surrounding whitespace allowed), nesting at most
// 512 deep.
bool is_json_text(std::string_view s);

// Writes one JSON value into `out`, inserting the commas.
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& begin_object() { return open('{'); }
  JsonWriter& end_object() { return close('}'); }
  JsonWriter& begin_array() { return open('['); }
  JsonWriter& end_array() { return close(']'); }
  JsonWriter& key(std::string_view k);
  JsonWriter& string(std::string_view v);
  JsonWriter& number(int64_t v);
  JsonWriter& boolean(bool v);
  JsonWriter& null();

 private:
  JsonWriter& open(char c);
  JsonWriter& close(char c);
  void value_separator();

  std::string& out_;
  std::vector<bool> first_;  // per open container: nothing written in it yet
  bool after_key_ = false;
};

}  // namespace natsfn
