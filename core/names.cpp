#include "core/names.hpp"

#include <cctype>

namespace natsfn {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

}  // namespace

Status validate_function_name(std::string_view name) {
  if (name.empty()) return Status(Errc::invalid_argument, "function name is empty");
  if (name.size() > 64)
    return Status(Errc::invalid_argument,
                  "function name '" + std::string(name) + "' is longer than 64 characters");
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_')
      return Status(Errc::invalid_argument, "function name '" + std::string(name) +
                                                "' may only use letters, digits, '-' and '_'");
  }
  return Status::OK();
}

Status validate_package_name(std::string_view name) {
  if (name.empty()) return Status(Errc::invalid_argument, "package name is empty");
  if (name.size() > 255)
    return Status(Errc::invalid_argument, "package name is longer than 255 bytes");
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return Status(Errc::invalid_argument, "package name contains a control character");
  }
  return Status::OK();
}

Status validate_binding_subject(std::string_view subject) {
  auto bad = [&](const std::string& why) {
    return Status(Errc::invalid_argument, "invalid subject '" + std::string(subject) + "': " + why);
  };
  if (subject.empty()) return bad("it is empty");
  if (subject.size() > 255) return bad("longer than 255 characters");
  if (subject == ">") return bad("a bare '>' would capture all traffic");
  if (subject[0] == '$') return bad("subjects starting with '$' belong to the system");
  if (starts_with(subject, "_INBOX")) return bad("_INBOX subjects carry replies");
  if (starts_with(subject, "natsfn.")) return bad("the natsfn. prefix is reserved");
  size_t start = 0;
  while (true) {
    size_t dot = subject.find('.', start);
    std::string_view token =
        subject.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (token.empty()) return bad("empty token");
    for (char c : token) {
      if (std::isspace(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) < 0x20)
        return bad("whitespace or control characters are not allowed");
    }
    if (token.find('*') != std::string_view::npos && token != "*")
      return bad("'*' must be a whole token");
    if (token.find('>') != std::string_view::npos) {
      if (token != ">") return bad("'>' must be a whole token");
      if (dot != std::string_view::npos) return bad("'>' must be the last token");
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return Status::OK();
}

std::string canonical_runtime(std::string_view r) {
  if (r == "node" || r == "nodejs") return "node";
  if (starts_with(r, "nodejs") && r.size() > 8 && r.substr(r.size() - 2) == ".x" &&
      all_digits(r.substr(6, r.size() - 8)))
    return "node";
  if (r == "python" || r == "python3") return "python";
  if (starts_with(r, "python3.") && all_digits(r.substr(8))) return "python";
  if (r == "exec" || r == "provided" || starts_with(r, "provided.")) return "exec";
  return "";
}

std::string invoke_subject(std::string_view function) {
  return "natsfn.invoke." + std::string(function);
}

}  // namespace natsfn
