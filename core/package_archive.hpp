#pragma once
// Function packages on disk: packing a directory into a reproducible tar.gz, recognising tar,
// tar.gz and Lambda .zip files by their bytes, and extracting them safely into a package cache.
// libarchive does the format work; it stays private to natsfn_core.

#include <cstdint>
#include <optional>
#include <string>

#include "core/status.hpp"

namespace natsfn {

/// Packs `dir` into a gzip-compressed pax/ustar tar at `out_tar_gz`.
///
/// Entries are relative paths in sorted order (each directory's children byte-wise sorted, a
/// directory before its contents), covering regular files, directories and symlinks (stored as
/// links). Metadata is normalised so the same tree always gives the same bytes and digest: mtime 0,
/// uid/gid 0 with no owner names, mode 0755 for directories and executable files, 0644 for other
/// files, and no gzip timestamp. A top-level `.git` directory is skipped. Files are streamed in
/// 64 KiB blocks. Refused (Errc::invalid_argument): fifos, sockets and devices, and symlinks whose
/// target would leave the package (see extract_package). The output is written to a temporary
/// sibling and renamed into place, so a failed pack leaves no partial file.
Status pack_directory(const std::string& dir, const std::string& out_tar_gz);

enum class PackageFormat { tar_gz, tar, zip, unknown };

const char* to_string(PackageFormat format);

/// Recognises a package by its magic bytes, never its name: gzip (1f 8b) is taken as tar.gz,
/// "PK\3\4" (or "PK\5\6", an empty zip) as zip, "ustar" at offset 257 (or an all-zero first
/// block, an empty tar) as tar. Unreadable files are `unknown`.
PackageFormat detect_format(const std::string& path);

/// OK when `path` is a readable tar, tar.gz or zip. Otherwise Errc::not_found / Errc::io for a
/// missing or unreadable file, or Errc::bad_package: "'x.txt' is not a tar, tar.gz or zip archive".
Status check_package_file(const std::string& path);

struct ExtractLimits {
  uint64_t max_total_bytes = uint64_t{1} << 30;   // 1 GiB of file data, counted as written
  uint64_t max_entries = 100000;                  // every entry: files, dirs, links
  uint64_t max_file_bytes = uint64_t{512} << 20;  // 512 MiB for any single file
};

struct ExtractStats {
  uint64_t entries = 0;          // entries extracted (including directories and links)
  uint64_t bytes = 0;            // file data written
  bool reused_existing = false;  // dest appeared meanwhile (a concurrent extraction); ours dropped
};

/// Extracts a tar, tar.gz or zip package (an AWS Lambda .zip as-is: with or without directory
/// entries, Unix modes from the zip's external attributes) into `dest_dir`.
///
/// The archive is written into a private sibling `<dest_dir>.tmp-<pid>-<random>` and renamed to
/// `dest_dir` only once complete, so readers never see half a package. If `dest_dir` exists by
/// then (another process or thread extracted the same package), the existing tree is kept, ours
/// is removed and `reused_existing` is set: `dest_dir` is expected to be keyed by digest.
///
/// Refused, with an error naming the archive and the entry ("package 'x': entry '../evil'
/// escapes the package root"): absolute paths, any `..` component, symlinks with an absolute
/// target or a target that climbs above the package root (only leading `..` components are
/// allowed), hardlinks to anything but an earlier regular file in the package, entries whose
/// path goes through a symlink, devices, fifos and sockets. Over a limit: Errc::too_large;
/// unsafe or corrupt/truncated: Errc::bad_package (with libarchive's message); local file system
/// failures: Errc::io. On any error nothing is left at `dest_dir` or beside it.
///
/// Ownership is never restored; modes keep their executable bits, lose setuid/setgid/sticky and
/// group/other write, and always give the owner read/write (and search on directories).
/// Modification times are not restored.
Result<ExtractStats> extract_package(const std::string& archive, const std::string& dest_dir,
                                     const ExtractLimits& limits = {});

/// Reads one regular file at `entry_path` (relative to the package root; a leading "./" in the
/// archive is ignored) without extracting anything. nullopt when the archive has no such entry;
/// Errc::too_large when it is bigger than `max_bytes`; Errc::bad_package for a corrupt or
/// unrecognised archive or when the entry is not a regular file.
Result<std::optional<std::string>> read_package_file(const std::string& archive,
                                                     const std::string& entry_path,
                                                     uint64_t max_bytes);

}  // namespace natsfn
