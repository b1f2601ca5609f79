// fieldseg: git-style subcommands, each registered by its own tools/cli/<verb>_command.cpp.
// Exit codes: 0 ok, 1 runtime failure, 2 usage / config error.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <new>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "command.hpp"
#include "config_file.hpp"
#include "fieldseg/error.hpp"
#include "fieldseg/version.hpp"
#ifdef FIELDSEG_WITH_TORCH
#include "fieldseg/trainer.hpp"
#endif
#include "log.hpp"
#include "run_record.hpp"

namespace fieldseg::cli {
std::vector<Entry>& registry() {
  static std::vector<Entry> entries;
  return entries;
}
}  // namespace fieldseg::cli

namespace {
// The OpenMP runtime of oneDNN and LibTorch (libgomp) reads OMP_WAIT_POLICY once, when it is
// loaded, before main(). Spinning idle workers cost 10-40x in training and inference wherever TBB
// workers or other processes share the cores, so unless the user chose a policy, re-execute once
// with the passive one.
void ensurePassiveOpenMp(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  setenv("OMP_WAIT_POLICY", "passive", 1);
  execv("/proc/self/exe", argv);
  // execv only returns on failure: carry on with the default policy.
}

#ifndef FIELDSEG_WITH_TORCH
// `fieldseg` runs inference on the fused engine without loading LibTorch (about 1 s and 110 MiB
// of every run). `train` needs LibTorch: it re-executes as `fieldseg-torch`, built beside it from
// the same sources, with the same arguments. The subcommand is the first argument that is neither
// a global option nor the value of --log-format.
bool needsTorch(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--log-format") {
      ++i;
      continue;
    }
    if (!a.empty() && a[0] == '-') continue;
    return a == "train";
  }
  return false;
}

void handOffToTorch(int argc, char** argv) {
  if (!needsTorch(argc, argv)) return;
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return;
  const std::string torchExe = (self.parent_path() / "fieldseg-torch").string();
  if (access(torchExe.c_str(), X_OK) != 0) return;  // the command then says what is missing
  execv(torchExe.c_str(), argv);
}
#endif
}  // namespace

int main(int argc, char** argv) {
  using namespace fieldseg;
  ensurePassiveOpenMp(argv);
#ifdef FIELDSEG_WITH_TORCH
  enableTorchModels();
#else
  handOffToTorch(argc, argv);
#endif
  cli::setCommandLine(argc, argv);
  CLI::App app{"fieldseg: crop-field polygons from satellite imagery"};
  app.set_version_flag("--version", std::string("fieldseg ") + kVersion);
  app.require_subcommand(1);
  // -q / -v are accepted after the subcommand too (fieldseg delineate ... -q).
  app.fallthrough();
  bool quiet = false;
  int verbose = 0;
  app.add_flag("-q,--quiet", quiet, "Only print errors");
  app.add_flag("-v,--verbose", verbose, "Print more detail (stage timings, inputs)");
  std::string logFormat = "text";
  app.add_option("--log-format", logFormat,
                 "stderr as text, or json: one JSON object per line (time, level, command, "
                 "message; progress events with fraction and ETA) for batch engines")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  // Set before the subcommand's callback runs (it logs), and from the raw arguments too, so that
  // a parse error is already reported in the format asked for.
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--log-format" && std::string(argv[i + 1]) == "json")
      cli::setLogFormat(cli::LogFormat::Json);
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--log-format=json") cli::setLogFormat(cli::LogFormat::Json);
  app.parse_complete_callback([&] {
    if (quiet)
      cli::setVerbosity(cli::Verbosity::Quiet);
    else if (verbose > 0)
      cli::setVerbosity(cli::Verbosity::Verbose);
    cli::setLogFormat(logFormat == "json" ? cli::LogFormat::Json : cli::LogFormat::Text);
  });

  // Every option keeps its declared default as text: --help shows it and each run record's "flags"
  // (config_file.hpp, resolvedFlags) records it, from the one declaration.
  app.option_defaults()->always_capture_default();
  auto& entries = cli::registry();
  std::sort(entries.begin(), entries.end(),
            [](const cli::Entry& a, const cli::Entry& b) { return a.order < b.order; });
  for (auto& e : entries) {
    CLI::App* sub = app.add_subcommand(e.name, e.description);
    e.setup(*sub);
    for (CLI::Option* o : sub->get_options())  // an empty list's default says nothing in --help
      if (o->get_default_str() == "[]") o->default_str("");
  }
  try {
    // `delineate --config FILE.json`: the file's flags join the command line (config_file.hpp).
    std::vector<std::string> args(argv + 1, argv + argc);
    args = cli::expandFlagConfig(app, std::move(args));
    std::reverse(args.begin(), args.end());  // CLI11 takes the vector last argument first
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line, like every other error: the cause, then where the usage is.
    std::string what = e.what();
    while (!what.empty() && (what.back() == '\n' || what.back() == ' ')) what.pop_back();
    for (auto& ch : what)
      if (ch == '\n') ch = ' ';
    cli::logError(what + " (see 'fieldseg --help' or 'fieldseg <command> --help')", 2);
    return 2;
  } catch (const UsageError& e) {
    cli::logError(e.what(), 2);
    return 2;
  } catch (const Error& e) {
    cli::logError(e.what(), 1);
    return 1;
  } catch (const std::bad_alloc&) {
    // Resource guards refuse inputs known to be too large up front; this is what is left.
    cli::logError(
        "out of memory. Process a smaller window (--aoi, fieldseg grid) or use smaller tiles "
        "(--tile-px).",
        1);
    return 1;
  } catch (const std::filesystem::filesystem_error& e) {
    cli::logError(std::string("file system: ") + e.what() + ". Check the path and its permissions.",
                  1);
    return 1;
  } catch (const nlohmann::json::exception& e) {
    cli::logError(std::string("a JSON input has a value of the wrong type or shape (") + e.what() +
                      "). Check the file against the documented schema.",
                  1);
    return 1;
  } catch (const std::exception& e) {
    cli::logError(std::string("internal error: ") + e.what(), 1);
    return 1;
  }
  return 0;
}
