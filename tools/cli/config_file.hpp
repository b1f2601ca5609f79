// `--config FILE.json` for the commands whose flags may also come from a file (delineate, labels,
// evaluate, calibrate, grid): the keys are the flag names without "--" ("tile-px" or "tile_px"),
// the values what the flag takes (a number, a string, true for a switch, a list for a repeatable
// flag or a comma-separated value); a positional argument goes by its name (delineate's
// "images"). So each option is declared once, as its CLI11 flag (name, type, default, help,
// validator), and the JSON key, --help and the validation all come from that declaration. Flags
// given on the command line win over the file. Unknown keys are refused, all of them named in one
// error.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace fieldseg::cli {

/// The subcommands that read `--config FILE.json` this way (train's --config is its training
/// configuration, a different thing).
bool takesFlagConfig(const std::string& subcommand);

/// `args` (argv without the program name) with the flags of the subcommand's `--config` file
/// inserted, ready for CLI11. `app` must have its subcommands set up. Throws UsageError for an
/// unreadable file, a file that is not a JSON object, unknown keys or values of the wrong shape.
std::vector<std::string> expandFlagConfig(const CLI::App& app, std::vector<std::string> args);

/// Registers `--config FILE.json` on a subcommand that takesFlagConfig() (its value lands in
/// `path`, for the run record).
CLI::Option* addFlagConfigOption(CLI::App& sub, std::string& path);

/// What every flag and positional argument of `sub` resolved to after parsing, keyed as `--config`
/// takes them (flag names without "--", positionals by name): the value given, else the declared
/// default; numbers as numbers, switches as true/false, repeatable options as lists; options with
/// neither a value nor a default (or a default outside the flag's checks, a sentinel such as
/// "-1 = one pixel") are left out. It is the "flags" object of each run record, so a
/// run record's flags are themselves a `--config` file that repeats the run.
nlohmann::json resolvedFlags(CLI::App& sub);

}  // namespace fieldseg::cli
