// pack_directory: a directory tree into a reproducible tar.gz, streamed file by file.

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "core/archive_internal.hpp"

namespace natsfn {

using archive_detail::EntryPtr;
using archive_detail::WritePtr;

namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Status io_error(const std::string& what, const std::string& path, int err) {
  return Status(Errc::io, what + " '" + path + "': " + std::strerror(err));
}

struct Packer {
  struct archive* out_;
  std::string root_;  // the directory being packed, as given
  dev_t out_dev_;     // the archive we are writing, so packing into the tree skips itself
  ino_t out_ino_;

  Status write_header(struct archive_entry* entry, const std::string& rel) {
    if (archive_write_header(out_, entry) < ARCHIVE_WARN) {
      return Status(Errc::io, "cannot add '" + rel + "': " + archive_detail::error_text(out_));
    }
    return Status::OK();
  }

  Status add_file(const std::string& full, const std::string& rel, const struct stat& st,
                  struct archive_entry* entry) {
    Fd fd(::open(full.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (fd.get() < 0) return io_error("cannot open", full, errno);
    archive_entry_set_filetype(entry, AE_IFREG);
    archive_entry_set_perm(entry, (st.st_mode & 0111) != 0 ? 0755 : 0644);
    archive_entry_set_size(entry, st.st_size);
    if (Status s = write_header(entry, rel); !s.ok()) return s;

    std::vector<char> buffer(archive_detail::kBlockSize);
    int64_t total = 0;
    for (;;) {
      ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return io_error("cannot read", full, errno);
      if (n == 0) break;
      total += n;
      if (total > st.st_size) break;
      if (archive_write_data(out_, buffer.data(), static_cast<size_t>(n)) < 0) {
        return Status(Errc::io, "cannot add '" + rel + "': " + archive_detail::error_text(out_));
      }
    }
    // The header already promised st_size bytes; a file that changed under us would make the
    // archive lie, so give up rather than publish it.
    if (total != st.st_size) {
      return Status(Errc::io, "'" + full + "' changed size while it was being packed");
    }
    return Status::OK();
  }

  Status add_symlink(const std::string& full, const std::string& rel, struct archive_entry* entry) {
    std::string target(4096, '\0');
    ssize_t n = ::readlink(full.c_str(), target.data(), target.size());
    if (n < 0) return io_error("cannot read symlink", full, errno);
    target.resize(static_cast<size_t>(n));
    if (Status s = archive_detail::check_symlink_target(rel, target); !s.ok()) {
      return Status(Errc::invalid_argument,
                    "'" + full + "' " + s.message() + "; packages may only link inside themselves");
    }
    archive_entry_set_filetype(entry, AE_IFLNK);
    archive_entry_set_perm(entry, 0777);
    archive_entry_set_symlink(entry, target.c_str());
    return write_header(entry, rel);
  }

  // Adds `rel` (empty for the root, which gets no entry) and, for a directory, its children in
  // byte-wise order.
  Status add(const std::string& rel) {
    std::string full = rel.empty() ? root_ : root_ + "/" + rel;
    struct stat st {};
    if (::lstat(full.c_str(), &st) != 0) return io_error("cannot stat", full, errno);
    if (st.st_dev == out_dev_ && st.st_ino == out_ino_) return Status::OK();

    if (!rel.empty()) {
      EntryPtr entry(archive_entry_new());
      archive_entry_set_pathname(entry.get(), rel.c_str());
      // Fixed metadata: the digest of a package should depend on its contents only.
      archive_entry_set_mtime(entry.get(), 0, 0);
      archive_entry_set_uid(entry.get(), 0);
      archive_entry_set_gid(entry.get(), 0);
      Status s;
      if (S_ISREG(st.st_mode)) {
        s = add_file(full, rel, st, entry.get());
      } else if (S_ISLNK(st.st_mode)) {
        s = add_symlink(full, rel, entry.get());
      } else if (S_ISDIR(st.st_mode)) {
        archive_entry_set_filetype(entry.get(), AE_IFDIR);
        archive_entry_set_perm(entry.get(), 0755);
        s = write_header(entry.get(), rel);
      } else {
        s = Status(Errc::invalid_argument,
                   "'" + full + "' is not a file, directory or symlink; packages hold only those");
      }
      if (!s.ok() || !S_ISDIR(st.st_mode)) return s;
    } else if (!S_ISDIR(st.st_mode)) {
      return Status(Errc::invalid_argument, "'" + root_ + "' is not a directory");
    }

    std::vector<std::string> children;
    DIR* d = ::opendir(full.c_str());
    if (d == nullptr) return io_error("cannot list", full, errno);
    while (struct dirent* de = ::readdir(d)) {
      std::string name = de->d_name;
      if (name == "." || name == "..") continue;
      if (rel.empty() && name == ".git") continue;  // version control is not part of a package
      children.push_back(std::move(name));
    }
    ::closedir(d);
    std::sort(children.begin(), children.end());
    for (const std::string& child : children) {
      if (Status s = add(rel.empty() ? child : rel + "/" + child); !s.ok()) return s;
    }
    return Status::OK();
  }
};

std::string temp_sibling(const std::string& path) {
  std::random_device rd;
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, ".tmp-%d-%08x", static_cast<int>(::getpid()), rd());
  return path + suffix;
}

}  // namespace

Status pack_directory(const std::string& dir, const std::string& out_tar_gz) {
  std::string tmp = temp_sibling(out_tar_gz);
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (fd.get() < 0) return io_error("cannot create", tmp, errno);
  struct stat out_st {};
  ::fstat(fd.get(), &out_st);

  Status status = [&]() -> Status {
    WritePtr out(archive_write_new());
    if (!out) return Status(Errc::internal, "archive_write_new failed");
    // pax_restricted writes plain ustar headers and adds pax extensions only when a name or size
    // needs them.
    if (archive_write_set_format_pax_restricted(out.get()) != ARCHIVE_OK ||
        archive_write_add_filter_gzip(out.get()) != ARCHIVE_OK ||
        archive_write_set_filter_option(out.get(), "gzip", "timestamp", nullptr) != ARCHIVE_OK ||
        archive_write_open_fd(out.get(), fd.get()) != ARCHIVE_OK) {
      return Status(Errc::internal,
                    "cannot set up the archive writer: " + archive_detail::error_text(out.get()));
    }
    Packer packer{out.get(), dir, out_st.st_dev, out_st.st_ino};
    if (Status s = packer.add(""); !s.ok()) return s;
    if (archive_write_close(out.get()) != ARCHIVE_OK) {
      return Status(Errc::io,
                    "cannot write '" + out_tar_gz + "': " + archive_detail::error_text(out.get()));
    }
    if (::fsync(fd.get()) != 0) return io_error("cannot write", out_tar_gz, errno);
    return Status::OK();
  }();

  if (status.ok() && ::rename(tmp.c_str(), out_tar_gz.c_str()) != 0) {
    status = io_error("cannot rename into", out_tar_gz, errno);
  }
  if (!status.ok()) ::unlink(tmp.c_str());
  return status;
}

}  // namespace natsfn
