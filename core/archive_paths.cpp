// Path rules shared by packing and extraction. They look only at strings; what is on disk (a
// component that turned out to be a symlink) is checked by the extractor as it goes.

#include <vector>

#include "core/archive_internal.hpp"
#include "core/split.hpp"

namespace natsfn::archive_detail {

std::string error_text(struct archive* a) {
  const char* text = a != nullptr ? archive_error_string(a) : nullptr;
  return text != nullptr && *text != '\0' ? text : "unknown libarchive error";
}

Status package_error(Errc code, const std::string& archive_path, std::string_view message) {
  return Status(code, "package '" + archive_path + "': " + std::string(message));
}

Result<std::string> normalize_entry_path(std::string_view raw) {
  if (!raw.empty() && raw.front() == '/') {
    return Status(Errc::bad_package, "is an absolute path");
  }
  std::string clean;
  for (std::string_view part : split(raw, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") return Status(Errc::bad_package, "escapes the package root");
    if (!clean.empty()) clean += '/';
    clean += part;
  }
  return clean;
}

Status check_symlink_target(std::string_view link_path, std::string_view target) {
  if (target.empty()) return Status(Errc::bad_package, "is a symlink with an empty target");
  if (target.front() == '/') {
    return Status(Errc::bad_package, "is a symlink to absolute path '" + std::string(target) + "'");
  }
  // The link's own directory depth bounds how far its leading ".." may climb.
  size_t depth = 0;
  for (std::string_view part : split(link_path, '/')) {
    if (!part.empty() && part != ".") ++depth;
  }
  if (depth > 0) --depth;  // the last component is the link itself

  size_t ups = 0;
  bool seen_name = false;
  for (std::string_view part : split(target, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (seen_name) {
        return Status(Errc::bad_package, "is a symlink to '" + std::string(target) +
                                             "', which has '..' after a name; only leading "
                                             "'..' components are allowed");
      }
      ++ups;
    } else {
      seen_name = true;
    }
  }
  if (ups > depth) {
    return Status(Errc::bad_package,
                  "is a symlink to '" + std::string(target) + "', which escapes the package root");
  }
  return Status::OK();
}

}  // namespace natsfn::archive_detail
