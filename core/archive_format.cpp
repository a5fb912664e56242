// Recognising packages by their bytes, opening them with the matching libarchive reader, and
// reading one file out of a package without extracting it.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "core/archive_internal.hpp"

namespace natsfn {

using archive_detail::EntryPtr;
using archive_detail::ReadPtr;

namespace {

// Enough to see the ustar magic at offset 257 and a whole first tar block.
constexpr size_t kSniffBytes = 512;

// A zip that opens with its end-of-central-directory record has no entries at all: any entry
// would have put a local file header first.
bool starts_with_end_of_central_directory(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char head[4] = {};
  in.read(head, sizeof head);
  return in.gcount() == 4 && std::memcmp(head, "PK\5\6", 4) == 0;
}

}  // namespace

const char* to_string(PackageFormat format) {
  switch (format) {
    case PackageFormat::tar_gz:
      return "tar.gz";
    case PackageFormat::tar:
      return "tar";
    case PackageFormat::zip:
      return "zip";
    case PackageFormat::unknown:
      break;
  }
  return "unknown";
}

PackageFormat detect_format(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return PackageFormat::unknown;
  std::array<unsigned char, kSniffBytes> head{};
  size_t got = 0;
  while (got < head.size()) {
    ssize_t n = ::read(fd, head.data() + got, head.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);

  if (got >= 2 && head[0] == 0x1f && head[1] == 0x8b) return PackageFormat::tar_gz;
  if (got >= 4 && head[0] == 'P' && head[1] == 'K' &&
      ((head[2] == 3 && head[3] == 4) || (head[2] == 5 && head[3] == 6))) {
    return PackageFormat::zip;
  }
  // Both POSIX "ustar\0" and GNU "ustar  \0" start with these five bytes.
  if (got >= 262 && std::memcmp(head.data() + 257, "ustar", 5) == 0) return PackageFormat::tar;
  // A tar of nothing is just zero blocks; libarchive reads it as an empty archive.
  if (got == kSniffBytes) {
    bool all_zero = true;
    for (unsigned char c : head) all_zero = all_zero && c == 0;
    if (all_zero) return PackageFormat::tar;
  }
  return PackageFormat::unknown;
}

Status check_package_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    int err = errno;
    return Status(err == ENOENT ? Errc::not_found : Errc::io,
                  "cannot open '" + path + "': " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    return Status(Errc::bad_package, "'" + path + "' is not a regular file");
  }
  if (::access(path.c_str(), R_OK) != 0) {
    int err = errno;
    return Status(Errc::io, "cannot read '" + path + "': " + std::strerror(err));
  }
  if (detect_format(path) == PackageFormat::unknown) {
    return Status(Errc::bad_package, "'" + path + "' is not a tar, tar.gz or zip archive");
  }
  return Status::OK();
}

namespace archive_detail {

Result<ReadPtr> open_package_reader(const std::string& archive_path) {
  if (Status st = check_package_file(archive_path); !st.ok()) return st;
  ReadPtr reader(archive_read_new());
  if (!reader) return Status(Errc::internal, "archive_read_new failed");
  // Only the one reader the magic bytes call for: less attack surface than "support all", and a
  // .zip that is really something else fails here instead of being half understood.
  switch (detect_format(archive_path)) {
    case PackageFormat::tar_gz:
      archive_read_support_filter_gzip(reader.get());
      archive_read_support_format_tar(reader.get());
      break;
    case PackageFormat::tar:
      archive_read_support_format_tar(reader.get());
      break;
    case PackageFormat::zip:
      if (starts_with_end_of_central_directory(archive_path)) {
        // libarchive's zip readers refuse a zip with no entries, though zip tools write them;
        // read it as the empty archive it is.
        archive_read_support_format_empty(reader.get());
        if (archive_read_open_memory(reader.get(), "", 0) != ARCHIVE_OK) {
          return package_error(Errc::bad_package, archive_path, error_text(reader.get()));
        }
        return reader;
      }
      // The seekable reader uses the central directory, which is where zip keeps Unix modes
      // (external attributes); the streaming reader would lose the executable bits.
      archive_read_support_format_zip_seekable(reader.get());
      break;
    case PackageFormat::unknown:
      return Status(Errc::bad_package,
                    "'" + archive_path + "' is not a tar, tar.gz or zip archive");
  }
  if (archive_read_open_filename(reader.get(), archive_path.c_str(), kBlockSize) != ARCHIVE_OK) {
    return package_error(Errc::bad_package, archive_path, error_text(reader.get()));
  }
  return reader;
}

}  // namespace archive_detail

Result<std::optional<std::string>> read_package_file(const std::string& archive,
                                                     const std::string& entry_path,
                                                     uint64_t max_bytes) {
  auto reader = archive_detail::open_package_reader(archive);
  if (!reader.ok()) return reader.status();
  struct archive* a = reader->get();

  for (;;) {
    struct archive_entry* entry = nullptr;
    int rc = archive_read_next_header(a, &entry);
    if (rc == ARCHIVE_EOF) return std::optional<std::string>();
    if (rc < ARCHIVE_WARN) {
      return archive_detail::package_error(Errc::bad_package, archive,
                                           archive_detail::error_text(a));
    }
    const char* raw = archive_entry_pathname(entry);
    if (raw == nullptr) continue;
    auto name = archive_detail::normalize_entry_path(raw);
    if (!name.ok() || *name != entry_path) continue;

    if (archive_entry_filetype(entry) != AE_IFREG || archive_entry_hardlink(entry) != nullptr) {
      return archive_detail::package_error(Errc::bad_package, archive,
                                           "entry '" + entry_path + "' is not a regular file");
    }
    if (archive_entry_size_is_set(entry) != 0 &&
        static_cast<uint64_t>(archive_entry_size(entry)) > max_bytes) {
      return archive_detail::package_error(
          Errc::too_large, archive,
          "entry '" + entry_path + "' is larger than " + std::to_string(max_bytes) + " bytes");
    }
    // Read at most one byte past the limit, whatever the header claimed.
    std::string data;
    std::array<char, 16 * 1024> buffer{};
    for (;;) {
      la_ssize_t n = archive_read_data(a, buffer.data(), buffer.size());
      if (n < 0) {
        return archive_detail::package_error(
            Errc::bad_package, archive,
            "entry '" + entry_path + "': " + archive_detail::error_text(a));
      }
      if (n == 0) break;
      data.append(buffer.data(), static_cast<size_t>(n));
      if (data.size() > max_bytes) {
        return archive_detail::package_error(
            Errc::too_large, archive,
            "entry '" + entry_path + "' is larger than " + std::to_string(max_bytes) + " bytes");
      }
    }
    return std::optional<std::string>(std::move(data));
  }
}

}  // namespace natsfn
