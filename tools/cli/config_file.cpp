#include "config_file.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "fieldseg/error.hpp"

namespace fieldseg::cli {
namespace {

using json = nlohmann::json;

std::string scalarText(const json& v, const std::string& where) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<long long>());
  if (v.is_number()) {
    std::ostringstream os;
    os.precision(17);
    os << v.get<double>();
    return os.str();
  }
  throw UsageError(where + " must be a number or a string, not " + v.dump() + ".");
}

// Every spelling of the options of `sub` already on the command line after the subcommand.
bool givenOnCommandLine(const CLI::Option& opt, const std::vector<std::string>& args, size_t from) {
  for (size_t i = from; i < args.size(); ++i) {
    const std::string& a = args[i];
    for (const auto& name : opt.get_lnames())
      if (a == "--" + name || a.rfind("--" + name + "=", 0) == 0) return true;
    for (const auto& name : opt.get_snames())
      if (a == "-" + name) return true;
  }
  return false;
}

json readConfig(const std::string& cmd, const std::string& path) {
  std::ifstream in(path);
  if (!in)
    throw UsageError(cmd + ": cannot read --config '" + path + "': no such file or not readable.");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    throw UsageError(cmd + ": --config '" + path + "' is not JSON: " + e.what());
  }
  if (!j.is_object())
    throw UsageError(cmd + ": --config '" + path +
                     "' must hold one JSON object of flag names and values, e.g. "
                     "{\"tile-px\": 512, \"model\": \"smallholder\"}.");
  return j;
}

// A flag's text as JSON: a number where the whole text is one (so a record reads back as the
// flag's type), else the string.
json typedValue(const std::string& text) {
  // Decimal numbers only: "inf", "nan" or "0x10" stay strings.
  if (!text.empty() && text.find_first_not_of("0123456789+-.eE") == std::string::npos) {
    try {
      size_t used = 0;
      const double v = std::stod(text, &used);
      if (used == text.size() && std::isfinite(v)) {
        const bool integral = text.find_first_of(".eE") == std::string::npos && std::fabs(v) < 9e15;
        return integral ? json(static_cast<long long>(v)) : json(v);
      }
    } catch (const std::exception&) {
    }
  }
  return text;
}

// Whether `value` passes the option's checks (ranges, choices): a default that is a sentinel
// outside them ("-1 = one pixel") is not a value the flag takes, so the record leaves it out.
bool passesChecks(CLI::Option& o, const std::string& value) {
  for (int i = 0;; ++i) {
    CLI::Validator* v = nullptr;
    try {
      v = o.get_validator(i);
    } catch (const CLI::OptionNotFound&) {
      return true;
    }
    std::string copy = value;
    if (!(*v)(copy).empty()) return false;
  }
}

}  // namespace

json resolvedFlags(CLI::App& sub) {
  json j = json::object();
  for (CLI::Option* o : sub.get_options()) {
    const std::string name = o->nonpositional()
                                 ? (o->get_lnames().empty() ? std::string() : o->get_lnames()[0])
                                 : o->get_name();
    if (name.empty() || name == "help" || name == "config") continue;
    if (o->get_expected_max() == 0) {  // a switch
      j[name] = o->count() > 0;
      continue;
    }
    if (o->count() > 0) {
      const std::vector<std::string>& r = o->results();
      if (o->get_expected_max() > 1 || r.size() > 1) {
        json list = json::array();
        for (const auto& v : r) list.push_back(typedValue(v));
        j[name] = list;
      } else {
        j[name] = typedValue(r.empty() ? std::string() : r.back());
      }
      continue;
    }
    const std::string def = o->get_default_str();
    if (def.size() >= 2 && def.front() == '[' && def.back() == ']') {  // a list's default
      json list = json::array();
      std::stringstream ss(def.substr(1, def.size() - 2));
      std::string item;
      while (std::getline(ss, item, ','))
        if (!item.empty()) list.push_back(typedValue(item));
      if (!list.empty()) j[name] = list;
    } else if (!def.empty() && passesChecks(*o, def)) {
      j[name] = typedValue(def);
    }
  }
  return j;
}

bool takesFlagConfig(const std::string& subcommand) {
  static const std::set<std::string> commands = {"delineate", "labels", "evaluate", "calibrate",
                                                 "grid"};
  return commands.count(subcommand) > 0;
}

CLI::Option* addFlagConfigOption(CLI::App& sub, std::string& path) {
  return sub.add_option(
      "--config", path,
      "Read flags from a JSON object whose keys are the flag names without '--' "
      "(\"overwrite\": true; a positional argument by its name, e.g. \"images\"); "
      "flags on the command line win; unknown keys are refused");
}

std::vector<std::string> expandFlagConfig(const CLI::App& app, std::vector<std::string> args) {
  // The subcommand: the first argument naming one.
  size_t subAt = args.size();
  const CLI::App* sub = nullptr;
  for (size_t i = 0; i < args.size() && !sub; ++i)
    for (const CLI::App* s : app.get_subcommands([](const CLI::App*) { return true; }))
      if (s->get_name() == args[i]) {
        sub = s;
        subAt = i;
        break;
      }
  if (!sub || !takesFlagConfig(sub->get_name())) return args;
  const std::string cmd = sub->get_name();
  std::string path;
  for (size_t i = subAt + 1; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) path = args[i + 1];
    if (args[i].rfind("--config=", 0) == 0) path = args[i].substr(9);
  }
  if (path.empty()) return args;
  const json j = readConfig(cmd, path);

  std::vector<std::string> flags, positionals, unknown;
  for (const auto& [rawKey, value] : j.items()) {
    std::string key = rawKey;
    std::replace(key.begin(), key.end(), '_', '-');
    const std::string where = cmd + ": --config '" + path + "': \"" + rawKey + "\"";
    // A positional argument (delineate's "images"), by its name.
    const CLI::Option* pos = sub->get_option_no_throw(key);
    if (pos && !pos->nonpositional()) {
      const json list = value.is_array() ? value : json::array({value});
      for (const auto& v : list) positionals.push_back(scalarText(v, where));
      continue;
    }
    const CLI::Option* opt = key == "config" ? nullptr : sub->get_option_no_throw("--" + key);
    if (!opt) {
      unknown.push_back(rawKey);
      continue;
    }
    if (givenOnCommandLine(*opt, args, subAt + 1)) continue;  // the command line wins
    const std::string flag = "--" + key;
    if (opt->get_expected_max() == 0) {  // a switch
      if (!value.is_boolean()) throw UsageError(where + " is a switch: give true or false.");
      if (value.get<bool>()) flags.push_back(flag);
      continue;
    }
    if (value.is_boolean() || value.is_null() || value.is_object())
      throw UsageError(where + " takes a value (" + flag + " VALUE), not " + value.dump() + ".");
    if (value.is_array()) {
      if (opt->get_expected_max() > 1) {  // repeatable: one flag per element
        for (const auto& v : value) {
          flags.push_back(flag);
          flags.push_back(scalarText(v, where));
        }
      } else {  // one comma-separated value, e.g. "aoi": [30.1, -2.0, 30.2, -1.9]
        std::string joined;
        for (const auto& v : value) joined += (joined.empty() ? "" : ",") + scalarText(v, where);
        flags.push_back(flag);
        flags.push_back(joined);
      }
      continue;
    }
    flags.push_back(flag);
    flags.push_back(scalarText(value, where));
  }
  if (!unknown.empty()) {
    std::string names, known;
    for (const auto& u : unknown) names += (names.empty() ? "\"" : ", \"") + u + "\"";
    for (const CLI::Option* o : sub->get_options()) {
      const std::string name = o->nonpositional()
                                   ? (o->get_lnames().empty() ? std::string() : o->get_lnames()[0])
                                   : o->get_name();
      if (!name.empty() && name != "help" && name != "config")
        known += (known.empty() ? "" : ", ") + name;
    }
    throw UsageError(cmd + ": --config '" + path + "': unknown key" +
                     (unknown.size() > 1 ? "s " : " ") + names +
                     ". Keys are the flag names without '--': " + known + ".");
  }
  std::vector<std::string> out(args.begin(), args.begin() + static_cast<long>(subAt) + 1);
  out.insert(out.end(), positionals.begin(), positionals.end());
  out.insert(out.end(), args.begin() + static_cast<long>(subAt) + 1, args.end());
  out.insert(out.end(), flags.begin(), flags.end());
  return out;
}

}  // namespace fieldseg::cli
