#pragma once
// Private to the archive_*.cpp files: libarchive handles and the path rules that packing and
// extraction share, so what pack_directory writes is exactly what extract_package accepts.

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/nats_handles.hpp"  // CDeleter
#include "core/package_archive.hpp"
#include "core/status.hpp"

namespace natsfn::archive_detail {

using ReadPtr = std::unique_ptr<struct archive, CDeleter<archive_read_free>>;
using WritePtr = std::unique_ptr<struct archive, CDeleter<archive_write_free>>;
using EntryPtr = std::unique_ptr<struct archive_entry, CDeleter<archive_entry_free>>;

inline constexpr size_t kBlockSize = 64 * 1024;

// libarchive's last error text, or a fallback when it has none.
std::string error_text(struct archive* a);

// The entry path as a clean relative path: "./" prefixes, "." components, repeated and trailing
// slashes removed. Empty for the root itself ("./"). Fails (with the reason, without the
// "package 'x': " prefix) for absolute paths and any ".." component.
Result<std::string> normalize_entry_path(std::string_view raw);

// Whether a symlink at relative path `link_path` with `target` stays inside the package: the
// target is relative, not empty, and its ".." components all come first and climb no higher than
// the link's own directory. Rejecting ".." after a name matters: "x/.." is not the directory
// holding x when x is itself a symlink. Fails with the reason.
Status check_symlink_target(std::string_view link_path, std::string_view target);

// Opens `archive_path` for reading with only the reader its magic bytes call for (gzip + tar,
// tar, or the seekable zip reader, which reads the central directory and so the Unix modes).
Result<ReadPtr> open_package_reader(const std::string& archive_path);

// "package 'x': " + message.
Status package_error(Errc code, const std::string& archive_path, std::string_view message);

}  // namespace natsfn::archive_detail
