#include "guards.hpp"

#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <system_error>

#include "fieldseg/error.hpp"

namespace fieldseg::cli {
namespace {

namespace fs = std::filesystem;

bool comparable(const std::string& p) {
  return !p.empty() && p.rfind("/vsi", 0) != 0 && p.find("://") == std::string::npos;
}

std::string resolved(const std::string& p) {
  std::error_code ec;
  fs::path r = fs::weakly_canonical(fs::absolute(p, ec), ec);
  if (ec) r = fs::absolute(p, ec).lexically_normal();
  return r.string();
}

std::vector<std::string> parts(const std::string& p) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= p.size()) {
    const size_t comma = p.find(',', start);
    const std::string part = p.substr(start, comma == std::string::npos ? comma : comma - start);
    if (comparable(part)) out.push_back(part);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

void refuseSamePaths(const std::string& command, const std::vector<NamedPath>& outputs,
                     const std::vector<NamedPath>& inputs) {
  std::vector<std::pair<const NamedPath*, std::string>> seen;
  for (const NamedPath& in : inputs)
    for (const std::string& part : parts(in.second)) seen.emplace_back(&in, resolved(part));
  for (const NamedPath& out : outputs) {
    if (!comparable(out.second)) continue;
    const std::string r = resolved(out.second);
    for (const auto& [other, path] : seen)
      if (path == r)
        throw UsageError(command + ": " + out.first + " '" + out.second + "' is the same file as " +
                         other->first + " '" + other->second +
                         "'. Choose another output path; nothing was written.");
    seen.emplace_back(&out, r);
  }
}

void checkOutputFolder(const std::string& command, const std::string& flag,
                       const std::string& path) {
  if (path.empty() || !comparable(path)) return;
  std::error_code ec;
  fs::path dir = fs::absolute(path, ec).parent_path();
  if (!fs::is_directory(dir, ec))
    throw IoError(command + ": " + flag + " '" + path + "': folder '" + dir.string() +
                  "' does not exist. Create it first; nothing was done.");
  if (::access(dir.c_str(), W_OK) != 0)
    throw IoError(command + ": " + flag + " '" + path + "': folder '" + dir.string() +
                  "' is not writable. Choose another output; nothing was done.");
}

void addGsdAndBudgetOptions(CLI::App& sub, double& gsdM, double& maxMpx, const std::string& gsdHelp,
                            const std::string& budgetOf) {
  sub.add_option("--gsd", gsdM, gsdHelp)->check(CLI::Range(0.01, 100000.0));
  sub.add_option("--max-mpx", maxMpx,
                 "Refuse " + budgetOf + " above this many megapixels (0 = no limit)")
      ->check(CLI::Range(0.0, 1e9))
      ->capture_default_str();
}

void checkPixelBudget(const std::string& command, const std::string& what, double pixels,
                      double maxMpx, const std::string& flag) {
  if (maxMpx <= 0 || pixels <= maxMpx * 1e6) return;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", pixels / 1e6);
  std::string figure = buf;
  std::snprintf(buf, sizeof buf, "%.6g", maxMpx);
  throw UsageError(command + ": " + what + " has " + figure + " Mpx, above the budget of " + buf +
                   " Mpx. " +
                   (flag.empty() ? std::string("Use a smaller window.")
                                 : "Check the input's size and --gsd, process a smaller window "
                                   "(--aoi, fieldseg grid), or raise " +
                                       flag + "."));
}

bool knownVectorExtension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".geojson" || ext == ".json" || ext == ".gpkg" || ext == ".fgb" ||
         ext == ".geojsonl" || ext == ".geojsons";
}

void checkVectorOutput(const std::string& command, const std::string& flag,
                       const std::string& path) {
  if (!knownVectorExtension(path))
    throw UsageError(command + ": " + flag + " '" + path +
                     "' has an unknown extension. Use .gpkg, .geojson, .fgb or .geojsonl.");
}

namespace {
// "auto", "native" or a number of metres in range; the message CLI11 prints otherwise.
std::string gsdFlagProblem(const std::string& v) {
  if (v == "auto" || v == "native") return {};
  try {
    size_t used = 0;
    const double m = std::stod(v, &used);
    if (used == v.size() && m >= 0.01 && m <= 100000) return {};
  } catch (const std::exception&) {
  }
  return "Value " + v + " not in range [0.01 - 100000] metres (or auto, native)";
}
}  // namespace

void addModelGsdAndBudgetOptions(CLI::App& sub, std::string& gsd, double& maxMpx,
                                 const std::string& budgetOf) {
  sub.add_option("--gsd", gsd,
                 "Ground sampling distance the network reads: auto (the image's own, resampled "
                 "on read to the nearer end of the model card's GSD range when it lies outside), "
                 "native (never resample), or metres")
      ->capture_default_str()
      ->check(
          CLI::Validator([](std::string& v) { return gsdFlagProblem(v); }, "auto|native|METRES"));
  sub.add_option("--max-mpx", maxMpx,
                 "Refuse " + budgetOf + " above this many megapixels (0 = no limit)")
      ->check(CLI::Range(0.0, 1e9))
      ->capture_default_str();
}

double parseGsdFlag(const std::string& gsd, const std::string& command) {
  if (const std::string problem = gsdFlagProblem(gsd); !problem.empty())
    throw UsageError(command + ": --gsd: " + problem + ".");
  return gsd == "auto" || gsd == "native" ? 0.0 : std::stod(gsd);
}

std::string autoGsdNote(double native, const std::pair<double, double>& range, double& gsdM) {
  const double lo = range.first, hi = range.second;
  if (!(native > 0) || (native >= lo * (1 - 1e-6) && native <= hi * (1 + 1e-6))) return {};
  gsdM = native < lo ? lo : hi;
  char note[256];
  std::snprintf(note, sizeof note,
                "image GSD %.2f m lies outside the model's range %.2f-%.2f m: resampling on read "
                "to %.2f m (--gsd native keeps %.2f m)",
                native, lo, hi, gsdM, native);
  return note;
}

}  // namespace fieldseg::cli
