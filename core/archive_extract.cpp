// extract_package: a tar, tar.gz or zip package into a directory, refusing anything that could
// write outside it. libarchive's secure flags are the second line of defence; the first is our own
// check of every entry name and link target before libarchive sees it, which also lets the error
// name the entry and say what was wrong with it.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>

#include "core/archive_internal.hpp"

namespace natsfn {

using archive_detail::package_error;
using archive_detail::ReadPtr;
using archive_detail::WritePtr;

namespace {

std::string kind_of(mode_t type) {
  switch (type) {
    case AE_IFCHR:
      return "character device";
    case AE_IFBLK:
      return "block device";
    case AE_IFIFO:
      return "fifo";
    case AE_IFSOCK:
      return "socket";
    default:
      return "special file";
  }
}

bool is_io_errno(int err) {
  return err == ENOSPC || err == EIO || err == EDQUOT || err == EROFS || err == EACCES ||
         err == EPERM || err == EMFILE || err == ENFILE || err == ENOMEM;
}

class Extractor {
 public:
  Extractor(const std::string& archive, struct archive* reader, std::string root,
            const ExtractLimits& limits)
      : archive_(archive), reader_(reader), root_(std::move(root)), limits_(limits) {}

  Status run(ExtractStats& stats) {
    WritePtr disk(archive_write_disk_new());
    if (!disk) return Status(Errc::internal, "archive_write_disk_new failed");
    // No ARCHIVE_EXTRACT_OWNER: files belong to whoever extracts them. No TIME, XATTR, ACL or
    // FFLAGS either: none of that is part of a function. NOABSOLUTEPATHS cannot be used because
    // we hand libarchive absolute paths under our temp dir (chdir is process-wide, so it is not
    // an option in a threaded program); absolute entry names are refused by our own check.
    archive_write_disk_set_options(disk.get(), ARCHIVE_EXTRACT_PERM |
                                                   ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                                   ARCHIVE_EXTRACT_SECURE_NODOTDOT);
    disk_ = disk.get();

    for (;;) {
      struct archive_entry* entry = nullptr;
      int rc = archive_read_next_header(reader_, &entry);
      if (rc == ARCHIVE_EOF) break;
      if (rc < ARCHIVE_WARN) {
        std::string where = last_entry_.empty() ? "" : " (after entry '" + last_entry_ + "')";
        return package_error(Errc::bad_package, archive_,
                             archive_detail::error_text(reader_) + where);
      }
      if (++stats.entries > limits_.max_entries) {
        return package_error(
            Errc::too_large, archive_,
            "has more than " + std::to_string(limits_.max_entries) + " entries (the limit)");
      }
      if (Status s = extract_entry(entry, stats); !s.ok()) return s;
    }
    disk_ = nullptr;
    // Closing applies the deferred directory modes.
    if (archive_write_close(disk.get()) < ARCHIVE_WARN) {
      return package_error(Errc::io, archive_, archive_detail::error_text(disk.get()));
    }
    return Status::OK();
  }

 private:
  Status entry_error(Errc code, const std::string& name, std::string_view what) const {
    return package_error(code, archive_, "entry '" + name + "' " + std::string(what));
  }

  Status disk_error(const std::string& name) const {
    int err = archive_errno(disk_);
    return entry_error(is_io_errno(err) ? Errc::io : Errc::bad_package, name,
                       "could not be extracted: " + archive_detail::error_text(disk_));
  }

  // Every existing directory on the way to `rel` must be a real directory: following a symlink
  // that an earlier entry planted is the classic way out of an extraction root.
  Status check_parents(const std::string& name, const std::string& rel) const {
    for (size_t slash = rel.find('/'); slash != std::string::npos;
         slash = rel.find('/', slash + 1)) {
      std::string prefix = rel.substr(0, slash);
      struct stat st {};
      if (::lstat((root_ + "/" + prefix).c_str(), &st) != 0) return Status::OK();
      if (S_ISLNK(st.st_mode)) {
        return entry_error(Errc::bad_package, name, "goes through symlink '" + prefix + "'");
      }
      if (!S_ISDIR(st.st_mode)) {
        return entry_error(Errc::bad_package, name,
                           "is inside '" + prefix + "', which is not a directory");
      }
    }
    return Status::OK();
  }

  Status check_hardlink(const std::string& name, const std::string& rel, const char* raw_target,
                        std::string& target_out) const {
    auto target = archive_detail::normalize_entry_path(raw_target);
    if (!target.ok() || target->empty()) {
      return entry_error(
          Errc::bad_package, name,
          "is a hard link to '" + std::string(raw_target) + "', which is outside the package");
    }
    if (Status s = check_parents(name, *target); !s.ok()) return s;
    struct stat st {};
    if (::lstat((root_ + "/" + *target).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return entry_error(Errc::bad_package, name,
                         "is a hard link to '" + *target +
                             "', which is not an earlier regular file in the package");
    }
    target_out = root_ + "/" + *target;
    return Status::OK();
  }

  Status extract_entry(struct archive_entry* entry, ExtractStats& stats) {
    const char* raw = archive_entry_pathname(entry);
    if (raw == nullptr) {
      return package_error(
          Errc::bad_package, archive_,
          "has an entry whose name cannot be decoded (after entry '" + last_entry_ + "')");
    }
    std::string name = raw;
    last_entry_ = name;
    auto rel = archive_detail::normalize_entry_path(name);
    if (!rel.ok()) return entry_error(Errc::bad_package, name, rel.status().message());
    const mode_t type = archive_entry_filetype(entry);
    const char* hardlink = archive_entry_hardlink(entry);
    if (rel->empty()) {
      // "./" is the package root itself, which we made.
      if (type == AE_IFDIR && hardlink == nullptr) return Status::OK();
      return entry_error(Errc::bad_package, name, "has an empty name");
    }

    std::string link_target;
    if (hardlink != nullptr) {
      if (Status s = check_hardlink(name, *rel, hardlink, link_target); !s.ok()) return s;
    } else if (type == AE_IFLNK) {
      const char* target = archive_entry_symlink(entry);
      Status s = archive_detail::check_symlink_target(*rel, target != nullptr ? target : "");
      if (!s.ok()) return entry_error(Errc::bad_package, name, s.message());
    } else if (type != AE_IFREG && type != AE_IFDIR) {
      return entry_error(
          Errc::bad_package, name,
          "is a " + kind_of(type) + "; packages may only hold files, directories and links");
    }
    if (Status s = check_parents(name, *rel); !s.ok()) return s;

    std::string path = root_ + "/" + *rel;
    // An entry replacing a symlink replaces the link itself, never what it points to. The temp
    // dir is ours alone, so nothing can swap the link back in between.
    struct stat existing {};
    if (::lstat(path.c_str(), &existing) == 0 && S_ISLNK(existing.st_mode)) ::unlink(path.c_str());

    if (archive_entry_size_is_set(entry) != 0 && archive_entry_size(entry) > 0) {
      auto declared = static_cast<uint64_t>(archive_entry_size(entry));
      if (Status s = check_size(name, declared, declared); !s.ok()) return s;
    }

    // Keep the executable bits; drop setuid, setgid, sticky and group/other write; always let the
    // owner read and write (and enter directories) so the cache can be cleaned up.
    mode_t perm = archive_entry_perm(entry) & 0755;
    if (type == AE_IFDIR) perm |= 0700;
    if (type == AE_IFREG) perm |= 0600;
    archive_entry_set_perm(entry, perm);
    archive_entry_set_pathname(entry, path.c_str());
    if (hardlink != nullptr) archive_entry_set_hardlink(entry, link_target.c_str());

    if (archive_write_header(disk_, entry) < ARCHIVE_WARN) return disk_error(name);
    if (type == AE_IFREG || hardlink != nullptr) {
      if (Status s = copy_data(name, stats); !s.ok()) return s;
    }
    if (archive_write_finish_entry(disk_) < ARCHIVE_WARN) return disk_error(name);
    return Status::OK();
  }

  // `file_bytes` is the size of the current file so far, or the size its header declares.
  Status check_size(const std::string& name, uint64_t file_bytes, uint64_t added) const {
    if (file_bytes > limits_.max_file_bytes) {
      return entry_error(Errc::too_large, name,
                         "is larger than the " + std::to_string(limits_.max_file_bytes) +
                             "-byte limit for one file");
    }
    if (total_bytes_ + added > limits_.max_total_bytes) {
      return package_error(Errc::too_large, archive_,
                           "is larger than the " + std::to_string(limits_.max_total_bytes) +
                               "-byte limit when extracted (at entry '" + name + "')");
    }
    return Status::OK();
  }

  // Counts what is actually decompressed, not what headers claim: a zip bomb's headers lie.
  Status copy_data(const std::string& name, ExtractStats& stats) {
    uint64_t file_bytes = 0;
    for (;;) {
      const void* block = nullptr;
      size_t size = 0;
      la_int64_t offset = 0;
      int rc = archive_read_data_block(reader_, &block, &size, &offset);
      if (rc == ARCHIVE_EOF) return Status::OK();
      if (rc < ARCHIVE_WARN) {
        return entry_error(Errc::bad_package, name,
                           "could not be read: " + archive_detail::error_text(reader_));
      }
      file_bytes += size;
      if (Status s = check_size(name, file_bytes, size); !s.ok()) return s;
      total_bytes_ += size;
      stats.bytes += size;
      if (archive_write_data_block(disk_, block, size, offset) < ARCHIVE_WARN) {
        return disk_error(name);
      }
    }
  }

  const std::string& archive_;
  struct archive* reader_;
  struct archive* disk_ = nullptr;
  std::string root_;
  ExtractLimits limits_;
  uint64_t total_bytes_ = 0;
  std::string last_entry_;
};

std::string random_suffix() {
  std::random_device rd;
  char suffix[40];
  std::snprintf(suffix, sizeof suffix, ".tmp-%d-%08x%08x", static_cast<int>(::getpid()), rd(),
                rd());
  return suffix;
}

Status io_error(const std::string& what, const std::string& path, int err) {
  return Status(Errc::io, what + " '" + path + "': " + std::strerror(err));
}

}  // namespace

Result<ExtractStats> extract_package(const std::string& archive, const std::string& dest_dir,
                                     const ExtractLimits& limits) {
  namespace fs = std::filesystem;
  auto reader = archive_detail::open_package_reader(archive);
  if (!reader.ok()) return reader.status();

  // Work on the canonical parent: libarchive's symlink check would otherwise trip over a
  // symlink anywhere in the cache's own path (/var/run, a home on another volume).
  fs::path dest = fs::path(dest_dir).lexically_normal();
  if (!dest.has_filename()) dest = dest.parent_path();
  if (dest.filename().empty() || dest.filename() == "." || dest.filename() == "..") {
    return Status(Errc::invalid_argument, "invalid extraction target '" + dest_dir + "'");
  }
  fs::path parent = dest.has_parent_path() ? dest.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) return Status(Errc::io, "cannot create '" + parent.string() + "': " + ec.message());
  char* real = ::realpath(parent.c_str(), nullptr);
  if (real == nullptr) return io_error("cannot resolve", parent.string(), errno);
  std::string final_dest = std::string(real) + "/" + dest.filename().string();
  std::free(real);

  std::string tmp = final_dest + random_suffix();
  if (::mkdir(tmp.c_str(), 0700) != 0) return io_error("cannot create", tmp, errno);

  ExtractStats stats;
  Status status = Extractor(archive, reader->get(), tmp, limits).run(stats);
  if (status.ok() && ::chmod(tmp.c_str(), 0755) != 0) status = io_error("cannot chmod", tmp, errno);

  if (status.ok()) {
    // RENAME_NOREPLACE: a directory renamed over an existing empty one would silently replace it.
    int rc = ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, final_dest.c_str(), RENAME_NOREPLACE);
    if (rc != 0 && errno == EINVAL) {
      // File systems without renameat2 flags: check, then rename, which fails on non-empty dirs.
      struct stat st {};
      rc = ::lstat(final_dest.c_str(), &st) == 0 ? (errno = EEXIST, -1)
                                                 : ::rename(tmp.c_str(), final_dest.c_str());
    }
    if (rc != 0) {
      int err = errno;
      struct stat st {};
      if ((err == EEXIST || err == ENOTEMPTY) && ::stat(final_dest.c_str(), &st) == 0 &&
          S_ISDIR(st.st_mode)) {
        stats.reused_existing = true;  // a concurrent extraction won; keep theirs
      } else {
        status = io_error("cannot rename into", final_dest, err);
      }
    }
    if (rc == 0) return stats;
  }
  fs::remove_all(tmp, ec);
  if (!status.ok()) return status;
  return stats;
}

}  // namespace natsfn
