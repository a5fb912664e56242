// natsfn package push|ls|info|get|rm
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/cli_context.hpp"
#include "cli/output.hpp"
#include "core/names.hpp"
#include "core/package_archive.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace natsfn::cli {
namespace {

json info_json(const ObjectInfo& i) {
  return {{"name", i.name}, {"size", i.size}, {"chunks", i.chunks},
          {"digest", i.digest}, {"mtime", i.mtime}, {"bucket", i.bucket}};
}

// A temp file removed when it goes out of scope, for packing a directory.
struct TempFile {
  std::string path;
  TempFile() {
    path = (fs::temp_directory_path() / "natsfn-pack-XXXXXX").string();
    int fd = mkstemp(path.data());
    if (fd < 0) throw CliError("cannot create a temporary file");
    ::close(fd);
  }
  ~TempFile() {
    std::error_code ec;
    fs::remove(path, ec);
  }
};

}  // namespace

std::string default_package_name(const std::string& path) {
  fs::path p = fs::path(path).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  if (fs::is_directory(p)) return fs::absolute(p).lexically_normal().filename().string();
  std::string name = p.filename().string();
  for (auto ext : {".tar.gz", ".tgz", ".tar", ".zip"}) {
    std::string e = ext;
    if (name.size() > e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0)
      return name.substr(0, name.size() - e.size());
  }
  return name;
}

ObjectInfo push_package(CliContext& ctx, const std::string& path, const std::string& name) {
  check(validate_package_name(name));
  std::error_code ec;
  if (!fs::exists(path, ec)) throw CliError("'" + path + "': file not found");
  std::optional<TempFile> packed;
  std::string source = path;
  if (fs::is_directory(path)) {
    packed.emplace();
    check(pack_directory(path, packed->path));
    source = packed->path;
  } else {
    check(check_package_file(path));
  }
  ObjectStore& store = ctx.packages(true);
  ProgressLine progress("pushing " + name);
  auto info = store.put_file(name, source, [&](uint64_t done, uint64_t total) {
    progress.update(done, total);
  });
  progress.finish();
  return check(std::move(info));
}

void add_package_commands(CLI::App& app, CliContext& ctx) {
  auto* pkg = app.add_subcommand("package", "function packages in the Object Store")->require_subcommand(1);

  auto* push = pkg->add_subcommand("push", "store a directory, .tar.gz, .tar or .zip (AWS Lambda zips as they are)");
  static std::string push_path, push_name;
  push->add_option("path", push_path, "directory or archive")->required();
  push->add_option("--name", push_name, "package name (default: the directory or file name)");
  push->callback([&ctx] {
    std::string name = push_name.empty() ? default_package_name(push_path) : push_name;
    auto info = push_package(ctx, push_path, name);
    if (ctx.json)
      std::cout << info_json(info).dump(2) << "\n";
    else
      std::cout << "pushed package " << info.name << " (" << human_bytes(info.size) << ", "
                << info.digest << ")\n";
  });

  pkg->add_subcommand("ls", "list packages")->callback([&ctx] {
    auto list = check(ctx.packages().list());
    if (ctx.json) {
      json j = json::array();
      for (auto& i : list) j.push_back(info_json(i));
      std::cout << j.dump(2) << "\n";
      return;
    }
    std::vector<std::vector<std::string>> rows;
    for (auto& i : list) rows.push_back({i.name, human_bytes(i.size), i.digest, i.mtime});
    print_table({"NAME", "SIZE", "DIGEST", "MODIFIED"}, rows);
  });

  static std::string info_name;
  auto* info = pkg->add_subcommand("info", "show one package");
  info->add_option("name", info_name)->required();
  info->callback([&ctx] {
    auto i = check(ctx.packages().info(info_name));
    if (ctx.json) {
      std::cout << info_json(i).dump(2) << "\n";
      return;
    }
    print_table({"FIELD", "VALUE"}, {{"name", i.name},
                                     {"size", std::to_string(i.size) + " (" + human_bytes(i.size) + ")"},
                                     {"chunks", std::to_string(i.chunks)},
                                     {"digest", i.digest},
                                     {"modified", i.mtime}});
  });

  static std::string get_name, get_out;
  auto* get = pkg->add_subcommand("get", "download a package, verifying its digest");
  get->add_option("name", get_name)->required();
  get->add_option("-o,--output", get_out, "file to write")->required();
  get->callback([&ctx] {
    ProgressLine progress("fetching " + get_name);
    auto r = ctx.packages().get_to_file(get_name, get_out, [&](uint64_t d, uint64_t t) {
      progress.update(d, t);
    });
    progress.finish();
    auto i = check(std::move(r));
    if (ctx.json)
      std::cout << info_json(i).dump(2) << "\n";
    else
      std::cout << "wrote " << get_out << " (" << human_bytes(i.size) << ", " << i.digest << ")\n";
  });

  static std::string rm_name;
  auto* rm = pkg->add_subcommand("rm", "delete a package");
  rm->add_option("name", rm_name)->required();
  rm->callback([&ctx] {
    check(ctx.packages().info(rm_name).status());  // unknown package is an error, not a no-op
    check(ctx.packages().remove(rm_name));
    if (!ctx.json) std::cout << "removed package " << rm_name << "\n";
  });
}

}  // namespace natsfn::cli
