// Packing, format detection and safe extraction. Every hostile archive is generated here with
// libarchive's writers (or by hand, for a zip libarchive would not write), then extracted into a
// sandbox whose every file is checked afterwards: nothing in or beside the destination, nothing
// written outside it.

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/manifest.hpp"
#include "core/package_archive.hpp"
#include "tests/support/processes.hpp"

using namespace natsfn;
using natsfn::test::read_file;
using natsfn::test::write_file;
namespace fs = std::filesystem;

namespace {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "natsfn-archive-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

mode_t mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// Every path under `dir`, relative, without following symlinks.
std::set<std::string> tree(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    out.insert(e.path().lexically_relative(dir).string());
  }
  return out;
}

enum class Kind { tar, tar_gz, zip };

// A libarchive writer for building test archives, including ones no sane tool would make.
class ArchiveWriter {
 public:
  ArchiveWriter(const std::string& path, Kind kind) : a_(archive_write_new()) {
    if (kind == Kind::zip) {
      archive_write_set_format_zip(a_);
    } else {
      archive_write_set_format_pax_restricted(a_);
    }
    if (kind == Kind::tar_gz) archive_write_add_filter_gzip(a_);
    REQUIRE(archive_write_open_filename(a_, path.c_str()) == ARCHIVE_OK);
  }
  ~ArchiveWriter() { archive_write_free(a_); }

  ArchiveWriter& file(const std::string& name, const std::string& data, mode_t mode = 0644) {
    return add(
        name, AE_IFREG, mode,
        [&](archive_entry* e) { archive_entry_set_size(e, static_cast<la_int64_t>(data.size())); },
        data);
  }
  ArchiveWriter& zeros(const std::string& name, size_t size) {
    add(name, AE_IFREG, 0644,
        [&](archive_entry* e) { archive_entry_set_size(e, static_cast<la_int64_t>(size)); });
    std::string block(64 * 1024, '\0');
    for (size_t done = 0; done < size; done += block.size()) {
      archive_write_data(a_, block.data(), std::min(block.size(), size - done));
    }
    return *this;
  }
  ArchiveWriter& dir(const std::string& name, mode_t mode = 0755) {
    return add(name, AE_IFDIR, mode, [](archive_entry*) {});
  }
  ArchiveWriter& symlink(const std::string& name, const std::string& target) {
    return add(name, AE_IFLNK, 0777,
               [&](archive_entry* e) { archive_entry_set_symlink(e, target.c_str()); });
  }
  ArchiveWriter& hardlink(const std::string& name, const std::string& target) {
    return add(name, AE_IFREG, 0644,
               [&](archive_entry* e) { archive_entry_set_hardlink(e, target.c_str()); });
  }
  ArchiveWriter& special(const std::string& name, mode_t type) {
    return add(name, type, 0644, [](archive_entry*) {});
  }
  void close() { REQUIRE(archive_write_close(a_) == ARCHIVE_OK); }

 private:
  template <class Fn>
  ArchiveWriter& add(const std::string& name, mode_t type, mode_t mode, Fn&& setup,
                     const std::string& data = {}) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, mode);
    setup(e);
    REQUIRE(archive_write_header(a_, e) == ARCHIVE_OK);
    if (!data.empty()) archive_write_data(a_, data.data(), data.size());
    archive_entry_free(e);
    return *this;
  }

  archive* a_;
};

// A zip as Windows tools and many zip libraries write it: "made by" MS-DOS (no Unix modes),
// stored entries, and no directory entries at all.
void write_dos_zip(const std::string& path,
                   const std::vector<std::pair<std::string, std::string>>& files) {
  auto crc32 = [](const std::string& s) {
    uint32_t c = 0xffffffffu;
    for (unsigned char b : s) {
      c ^= b;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
  };
  std::string out, central;
  auto u16 = [](std::string& s, uint32_t v) { s += char(v & 0xff), s += char((v >> 8) & 0xff); };
  auto u32 = [&](std::string& s, uint32_t v) { u16(s, v & 0xffff), u16(s, v >> 16); };
  for (const auto& [name, data] : files) {
    uint32_t offset = static_cast<uint32_t>(out.size()), crc = crc32(data);
    auto size = static_cast<uint32_t>(data.size());
    u32(out, 0x04034b50), u16(out, 20), u16(out, 0), u16(out, 0), u16(out, 0), u16(out, 0x21);
    u32(out, crc), u32(out, size), u32(out, size), u16(out, name.size()), u16(out, 0);
    out += name + data;
    u32(central, 0x02014b50), u16(central, 20), u16(central, 20), u16(central, 0);
    u16(central, 0), u16(central, 0), u16(central, 0x21), u32(central, crc), u32(central, size);
    u32(central, size), u16(central, name.size()), u16(central, 0), u16(central, 0);
    u16(central, 0), u16(central, 0), u32(central, 0), u32(central, offset);
    central += name;
  }
  auto cd_offset = static_cast<uint32_t>(out.size());
  out += central;
  u32(out, 0x06054b50), u16(out, 0), u16(out, 0), u16(out, files.size()), u16(out, files.size());
  u32(out, central.size()), u32(out, cd_offset), u16(out, 0);
  std::ofstream(path, std::ios::binary) << out;
}

// The tree a Lambda-style function has: code, a script, node_modules, links inside the tree.
void make_function_tree(const std::string& root) {
  write_file(root + "/index.js", "exports.handler = async () => 'hello';\n");
  write_file(root + "/bin/run.sh", "#!/bin/sh\necho hi\n", 0755);
  write_file(root + "/node_modules/left-pad/package.json", "{\"name\":\"left-pad\"}");
  write_file(root + "/node_modules/left-pad/index.js", "module.exports = 1;\n");
  std::string big(300 * 1024 + 17, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 7919) % 251);
  write_file(root + "/data/big.bin", big);  // several 64 KiB blocks
  write_file(root + "/.git/config", "[core]\n");
  write_file(root + "/caf\xc3\xa9.txt", "utf-8 name\n");
  fs::create_directories(root + "/empty");
  fs::create_directories(root + "/node_modules/.bin");
  fs::create_symlink("../left-pad/index.js", root + "/node_modules/.bin/left-pad");
  fs::create_symlink("node_modules/left-pad", root + "/current");
}

}  // namespace

TEST_CASE("pack then extract keeps contents, exec bits and in-tree symlinks", "[archive]") {
  TempDir t;
  make_function_tree(t / "src");
  REQUIRE(pack_directory(t / "src", t / "fn.tar.gz").ok());
  CHECK(detect_format(t / "fn.tar.gz") == PackageFormat::tar_gz);
  CHECK(tree(t.path()) ==
        std::set<std::string>{"fn.tar.gz", "src", "src/.git", "src/.git/config", "src/bin",
                              "src/bin/run.sh", "src/caf\xc3\xa9.txt", "src/current", "src/data",
                              "src/data/big.bin", "src/empty", "src/index.js", "src/node_modules",
                              "src/node_modules/.bin", "src/node_modules/.bin/left-pad",
                              "src/node_modules/left-pad", "src/node_modules/left-pad/index.js",
                              "src/node_modules/left-pad/package.json"});

  auto stats = extract_package(t / "fn.tar.gz", t / "cache/fn");
  REQUIRE(stats.ok());
  CHECK_FALSE(stats->reused_existing);
  CHECK(stats->entries == 14);
  std::string out = t / "cache/fn";
  for (const char* rel : {"index.js", "bin/run.sh", "data/big.bin", "caf\xc3\xa9.txt",
                          "node_modules/left-pad/package.json"}) {
    CHECK(read_file(out + "/" + rel) == read_file(t / "src/" + rel));
  }
  uint64_t expected_bytes = 0;
  for (const char* rel : {"index.js", "bin/run.sh", "data/big.bin", "caf\xc3\xa9.txt",
                          "node_modules/left-pad/package.json", "node_modules/left-pad/index.js"}) {
    expected_bytes += fs::file_size(t / "src/" + rel);
  }
  CHECK(stats->bytes == expected_bytes);
  CHECK(mode_of(out + "/bin/run.sh") == 0755);
  CHECK(mode_of(out + "/index.js") == 0644);
  CHECK(fs::is_directory(out + "/empty"));
  CHECK_FALSE(fs::exists(out + "/.git"));
  CHECK(fs::read_symlink(out + "/current") == "node_modules/left-pad");
  CHECK(fs::read_symlink(out + "/node_modules/.bin/left-pad") == "../left-pad/index.js");
  CHECK(read_file(out + "/node_modules/.bin/left-pad") == "module.exports = 1;\n");
  // Nothing but the destination appears beside it: the temp dir was renamed, not copied.
  for (const auto& e : fs::directory_iterator(t / "cache")) CHECK(e.path().filename() == "fn");
}

TEST_CASE("packing is reproducible: same tree, same bytes, no gzip timestamp", "[archive]") {
  TempDir t;
  make_function_tree(t / "src");
  REQUIRE(pack_directory(t / "src", t / "a.tar.gz").ok());
  // Different mtimes and a different creation order must not change the archive.
  struct timespec times[2] = {{1000, 0}, {1000, 0}};
  REQUIRE(::utimensat(AT_FDCWD, (t / "src/index.js").c_str(), times, 0) == 0);
  REQUIRE(pack_directory(t / "src", t / "b.tar.gz").ok());
  std::string a = read_file(t / "a.tar.gz");
  CHECK(a == read_file(t / "b.tar.gz"));
  REQUIRE(a.size() > 8);
  CHECK(a.substr(4, 4) == std::string(4, '\0'));  // gzip MTIME field
}

TEST_CASE("packing refuses links that leave the tree and special files", "[archive]") {
  TempDir t;
  write_file(t / "src/index.js", "x");
  fs::create_symlink("/etc/passwd", t / "src/passwd");
  Status s = pack_directory(t / "src", t / "out.tar.gz");
  CHECK(s.code() == Errc::invalid_argument);
  CHECK_THAT(s.message(), Catch::Contains("passwd' is a symlink to absolute path '/etc/passwd'"));
  fs::remove(t / "src/passwd");
  fs::create_symlink("../../x", t / "src/up");
  CHECK_THAT(pack_directory(t / "src", t / "out.tar.gz").message(),
             Catch::Contains("escapes the package root"));
  fs::remove(t / "src/up");
  REQUIRE(::mkfifo((t / "src/pipe").c_str(), 0644) == 0);
  CHECK_THAT(pack_directory(t / "src", t / "out.tar.gz").message(),
             Catch::Contains("pipe' is not a file, directory or symlink"));
  CHECK(tree(t.path()) == std::set<std::string>{"src", "src/index.js", "src/pipe"});
  CHECK(pack_directory(t / "missing", t / "out.tar.gz").code() == Errc::io);
}

TEST_CASE("detect_format looks at bytes, not names", "[archive]") {
  TempDir t;
  ArchiveWriter(t / "a.zip.txt", Kind::zip).file("x", "1").close();
  ArchiveWriter(t / "b.zip", Kind::tar).file("x", "1").close();
  ArchiveWriter(t / "c.tar", Kind::tar_gz).file("x", "1").close();
  ArchiveWriter(t / "empty.zip", Kind::zip).close();
  write_file(t / "x.txt", "just some text, long enough to not be anything\n");
  write_file(t / "empty.bin", "");
  CHECK(detect_format(t / "a.zip.txt") == PackageFormat::zip);
  CHECK(detect_format(t / "b.zip") == PackageFormat::tar);
  CHECK(detect_format(t / "c.tar") == PackageFormat::tar_gz);
  CHECK(detect_format(t / "empty.zip") == PackageFormat::zip);
  CHECK(detect_format(t / "x.txt") == PackageFormat::unknown);
  CHECK(detect_format(t / "empty.bin") == PackageFormat::unknown);
  CHECK(detect_format(t / "missing") == PackageFormat::unknown);
  CHECK(std::string(to_string(PackageFormat::tar_gz)) == "tar.gz");

  CHECK(check_package_file(t / "a.zip.txt").ok());
  Status s = check_package_file(t / "x.txt");
  CHECK(s.code() == Errc::bad_package);
  CHECK(s.message() == "'" + (t / "x.txt") + "' is not a tar, tar.gz or zip archive");
  CHECK(check_package_file(t / "missing").code() == Errc::not_found);
  CHECK(check_package_file(t.path()).code() == Errc::bad_package);

  // An empty zip and an empty tar extract to an empty package.
  ArchiveWriter(t / "empty.tar", Kind::tar).close();
  CHECK(detect_format(t / "empty.tar") == PackageFormat::tar);
  for (const char* name : {"empty.zip", "empty.tar"}) {
    auto empty = extract_package(t / name, t / (std::string("out/") + name));
    INFO(empty.status().message());
    REQUIRE(empty.ok());
    CHECK(fs::is_empty(t / (std::string("out/") + name)));
  }
}

TEST_CASE("a Lambda-style zip extracts with modes, nested trees and no directory entries",
          "[archive]") {
  TempDir t;
  ArchiveWriter(t / "fn.zip", Kind::zip)
      .file("index.js", "exports.handler = 1;\n")
      .file("node_modules/a/b/c/deep.js", "deep\n")  // no directory entries before it
      .dir("node_modules/")
      .file("node_modules/pkg/package.json", "{}")
      .file("bootstrap", "#!/bin/sh\n", 0755)
      .file("natsfn.json", R"({"runtime":"node","handler":"index.handler","timeout":"2s"})")
      .symlink("node_modules/.bin/deep", "../a/b/c/deep.js")
      .close();
  auto stats = extract_package(t / "fn.zip", t / "cache/fn");
  REQUIRE(stats.ok());
  std::string out = t / "cache/fn";
  CHECK(read_file(out + "/node_modules/a/b/c/deep.js") == "deep\n");
  CHECK(read_file(out + "/node_modules/.bin/deep") == "deep\n");
  CHECK(mode_of(out + "/bootstrap") == 0755);
  CHECK(mode_of(out + "/index.js") == 0644);
  CHECK((mode_of(out + "/node_modules/a/b") & 0700) == 0700);

  auto manifest = read_manifest_from_archive(t / "fn.zip");
  REQUIRE(manifest.ok());
  REQUIRE(manifest->has_value());
  CHECK((*manifest)->handler == "index.handler");
  CHECK((*manifest)->timeout_ms == 2000);
  CHECK((*manifest)->name.empty());
}

TEST_CASE("a zip made by DOS tools (no Unix modes, no dir entries) extracts", "[archive]") {
  TempDir t;
  write_dos_zip(t / "win.zip", {{"index.js", "hi"}, {"lib/util/x.js", "x"}});
  REQUIRE(detect_format(t / "win.zip") == PackageFormat::zip);
  auto stats = extract_package(t / "win.zip", t / "out/pkg");
  REQUIRE(stats.ok());
  CHECK(read_file(t / "out/pkg/lib/util/x.js") == "x");
  CHECK((mode_of(t / "out/pkg/index.js") & 0600) == 0600);
}

TEST_CASE("tar quirks: ./ prefixes, a root entry, setuid bits, hard links", "[archive]") {
  TempDir t;
  ArchiveWriter(t / "p.tar", Kind::tar)
      .dir("./")
      .file("./index.js", "x")
      .file("./tool", "#!/bin/sh\n", 04755)
      .dir("./shared", 02775)
      .hardlink("./index2.js", "./index.js")
      .close();
  auto stats = extract_package(t / "p.tar", t / "out/pkg");
  REQUIRE(stats.ok());
  CHECK(mode_of(t / "out/pkg/tool") == 0755);
  CHECK(mode_of(t / "out/pkg/shared") == 0755);
  CHECK(mode_of(t / "out/pkg") == 0755);
  CHECK(fs::equivalent(t / "out/pkg/index.js", t / "out/pkg/index2.js"));
}

namespace {

struct Hostile {
  const char* label;
  std::function<void(ArchiveWriter&, const std::string& sandbox)> build;
  std::string message;  // expected after "package '<archive>': "
};

}  // namespace

TEST_CASE("hostile archives fail naming the entry and leave nothing behind", "[archive]") {
  std::vector<Hostile> cases = {
      {"dotdot", [](auto& w, auto&) { w.file("ok.txt", "1").file("../evil", "x"); },
       "entry '../evil' escapes the package root"},
      {"absolute", [](auto& w, auto& s) { w.file(s + "/abs-evil", "x"); }, "is an absolute path"},
      {"nested dotdot", [](auto& w, auto&) { w.dir("a").file("a/../../evil", "x"); },
       "entry 'a/../../evil' escapes the package root"},
      {"absolute symlink then write through it",
       [](auto& w, auto&) { w.symlink("passwd", "/etc/passwd").file("passwd", "root::0:0::/:"); },
       "entry 'passwd' is a symlink to absolute path '/etc/passwd'"},
      {"symlink to sandbox then write through it",
       [](auto& w, auto& s) { w.symlink("esc", s).file("esc/victim.txt", "pwned"); },
       "entry 'esc' is a symlink to absolute path"},
      {"symlink to parent then escape",
       [](auto& w, auto&) { w.symlink("link", "..").file("link/escape", "x"); },
       "entry 'link' is a symlink to '..', which escapes the package root"},
      {"deep symlink climbing out",
       [](auto& w, auto&) { w.dir("a").symlink("a/up", "../../victim.txt"); },
       "entry 'a/up' is a symlink to '../../victim.txt', which escapes the package root"},
      {"symlink with .. after a name",
       [](auto& w, auto&) { w.symlink("self", ".").symlink("out", "self/../x"); },
       "entry 'out' is a symlink to 'self/../x', which has '..' after a name"},
      {"entry through an in-tree symlinked directory",
       [](auto& w, auto&) { w.dir("sub").symlink("inner", "sub").file("inner/f", "x"); },
       "entry 'inner/f' goes through symlink 'inner'"},
      {"hard link to an absolute path",
       [](auto& w, auto& s) { w.hardlink("h", s + "/victim.txt"); },
       "which is outside the package"},
      {"hard link climbing out", [](auto& w, auto&) { w.hardlink("h", "../victim.txt"); },
       "entry 'h' is a hard link to '../victim.txt', which is outside the package"},
      {"hard link to a symlink", [](auto& w, auto&) { w.symlink("s", "x").hardlink("h", "s"); },
       "entry 'h' is a hard link to 's', which is not an earlier regular file"},
      {"fifo", [](auto& w, auto&) { w.special("pipe", AE_IFIFO); },
       "entry 'pipe' is a fifo; packages may only hold files, directories and links"},
      {"device", [](auto& w, auto&) { w.dir("dev").special("dev/null", AE_IFCHR); },
       "entry 'dev/null' is a character device"},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.label) {
      TempDir t;
      write_file(t / "victim.txt", "original");
      ArchiveWriter w(t / "evil.tar", Kind::tar);
      c.build(w, t.path());
      w.close();
      auto r = extract_package(t / "evil.tar", t / "out/pkg");
      REQUIRE_FALSE(r.ok());
      CHECK(r.status().code() == Errc::bad_package);
      CHECK_THAT(r.status().message(), Catch::StartsWith("package '" + (t / "evil.tar") + "': "));
      CHECK_THAT(r.status().message(), Catch::Contains(c.message));
      CHECK(tree(t.path()) == std::set<std::string>{"evil.tar", "out", "victim.txt"});
      CHECK(read_file(t / "victim.txt") == "original");
      CHECK(read_file("/etc/passwd").find("root::0:0::/:") == std::string::npos);
    }
  }
}

TEST_CASE("zip entries go through the same checks as tar entries", "[archive]") {
  TempDir t;
  ArchiveWriter(t / "dotdot.zip", Kind::zip).file("ok.js", "1").file("../evil.js", "x").close();
  ArchiveWriter(t / "link.zip", Kind::zip).symlink("p", "/etc/passwd").file("p", "x").close();
  for (auto [name, message] :
       {std::pair{"dotdot.zip", "entry '../evil.js' escapes the package root"},
        {"link.zip", "entry 'p' is a symlink to absolute path '/etc/passwd'"}}) {
    auto r = extract_package(t / name, t / "out/pkg");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() == "package '" + (t / name) + "': " + message);
    CHECK(tree(t / "out").empty());
  }
}

TEST_CASE("limits: entry count, total size, single file size, zip bomb", "[archive]") {
  TempDir t;
  {
    ArchiveWriter w(t / "many.tar.gz", Kind::tar_gz);
    for (int i = 0; i < 20; ++i) w.file("f" + std::to_string(i), "x");
    w.close();
  }
  ExtractLimits few;
  few.max_entries = 10;
  auto r = extract_package(t / "many.tar.gz", t / "out/pkg", few);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Errc::too_large);
  CHECK_THAT(r.status().message(), Catch::Contains("has more than 10 entries"));

  ArchiveWriter(t / "big.tar", Kind::tar).file("a", std::string(600, 'a')).file("b", "bb").close();
  ExtractLimits small_total;
  small_total.max_total_bytes = 601;
  r = extract_package(t / "big.tar", t / "out/pkg", small_total);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Errc::too_large);
  CHECK_THAT(r.status().message(), Catch::Contains("601-byte limit when extracted (at entry 'b')"));
  ExtractLimits small_file;
  small_file.max_file_bytes = 100;
  r = extract_package(t / "big.tar", t / "out/pkg", small_file);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Catch::Contains("entry 'a' is larger than the 100-byte limit"));

  // 64 MiB of zeros deflate to a few dozen KiB: the classic zip bomb shape.
  ArchiveWriter(t / "bomb.zip", Kind::zip).zeros("zeros.bin", 64u << 20).close();
  CHECK(fs::file_size(t / "bomb.zip") < (1u << 20));
  ExtractLimits one_mib;
  one_mib.max_total_bytes = 1u << 20;
  r = extract_package(t / "bomb.zip", t / "out/pkg", one_mib);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Errc::too_large);
  CHECK_THAT(r.status().message(), Catch::Contains("zeros.bin"));
  CHECK(tree(t / "out").empty());
}

TEST_CASE("corrupt and unrecognised packages fail cleanly", "[archive]") {
  TempDir t;
  make_function_tree(t / "src");
  REQUIRE(pack_directory(t / "src", t / "fn.tar.gz").ok());
  std::string whole = read_file(t / "fn.tar.gz");
  std::ofstream(t / "truncated.tar.gz", std::ios::binary) << whole.substr(0, whole.size() / 2);
  std::string garbage;
  for (int i = 0; i < 4096; ++i) garbage += static_cast<char>((i * 131 + 7) % 256);
  std::ofstream(t / "garbage.bin", std::ios::binary) << garbage;
  std::ofstream(t / "fake.tar.gz", std::ios::binary) << "\x1f\x8b" + garbage;

  for (const char* name : {"truncated.tar.gz", "garbage.bin", "fake.tar.gz"}) {
    INFO(name);
    auto r = extract_package(t / name, t / "out/pkg");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Errc::bad_package);
    CHECK_THAT(r.status().message(), Catch::Contains(t / name));
    UNSCOPED_INFO(r.status().message());
    CHECK_FALSE(fs::exists(t / "out/pkg"));
    if (fs::exists(t / "out")) CHECK(tree(t / "out").empty());
  }
  CHECK(read_manifest_from_archive(t / "garbage.bin").status().code() == Errc::bad_package);
}

TEST_CASE("an existing destination is kept; concurrent extractions agree", "[archive]") {
  TempDir t;
  ArchiveWriter(t / "p.tar.gz", Kind::tar_gz).file("index.js", "new").close();
  write_file(t / "out/pkg/index.js", "existing");
  auto r = extract_package(t / "p.tar.gz", t / "out/pkg");
  REQUIRE(r.ok());
  CHECK(r->reused_existing);
  CHECK(read_file(t / "out/pkg/index.js") == "existing");
  CHECK(tree(t / "out") == std::set<std::string>{"pkg", "pkg/index.js"});

  std::vector<std::thread> threads;
  std::vector<int> reused(4, -1);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      auto s = extract_package(t / "p.tar.gz", t / "shared/pkg/");
      reused[i] = s.ok() ? (s->reused_existing ? 1 : 0) : 2;
    });
  }
  for (auto& th : threads) th.join();
  CHECK(std::count(reused.begin(), reused.end(), 0) == 1);
  CHECK(std::count(reused.begin(), reused.end(), 1) == 3);
  CHECK(tree(t / "shared") == std::set<std::string>{"pkg", "pkg/index.js"});
  CHECK(read_file(t / "shared/pkg/index.js") == "new");
}

TEST_CASE("read_package_file reads one entry without extracting", "[archive]") {
  TempDir t;
  ArchiveWriter(t / "p.tar.gz", Kind::tar_gz)
      .file("./natsfn.json", R"({"runtime":"exec","handler":"bootstrap","mode":"oneshot"})")
      .file("sub/natsfn.json", "{}")
      .file("big", std::string(2000, 'b'))
      .close();
  auto manifest = read_manifest_from_archive(t / "p.tar.gz");
  REQUIRE(manifest.ok());
  REQUIRE(manifest->has_value());
  CHECK((*manifest)->mode == "oneshot");

  auto small = read_package_file(t / "p.tar.gz", "big", 1000);
  CHECK(small.status().code() == Errc::too_large);
  auto missing = read_package_file(t / "p.tar.gz", "nope", 1000);
  REQUIRE(missing.ok());
  CHECK_FALSE(missing->has_value());

  ArchiveWriter(t / "none.zip", Kind::zip).file("index.js", "x").close();
  auto none = read_manifest_from_archive(t / "none.zip");
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());

  ArchiveWriter(t / "bad.zip", Kind::zip).file("natsfn.json", R"({"runtime":"node"})").close();
  auto bad = read_manifest_from_archive(t / "bad.zip");
  CHECK(bad.status().code() == Errc::invalid_argument);
  CHECK(bad.status().message() ==
        "natsfn.json in '" + (t / "bad.zip") + "': missing required field 'handler'");
}
